;; Conv2DBackpropInput (NHWC dy, HWIO filter) for the tfjs wasm backend, computed directly:
;;   dx[n, ih, iw, ci] = sum over (kh, kw, co) with ih = oh * sH + kh * dH - padT,
;;                       iw = ow * sW + kw * dW - padL, 0 <= oh < OH, 0 <= ow < OW, of
;;                       dy[n, oh, ow, co] * w[kh, kw, ci, co]
;; No zero-inserted or padded dy is built. The caller groups the dx pixels of an image into items
;; of 4 (itemTable in src/convInputGrad.ts: within a band of rows, pixels with the same set of
;; taps together) and passes, per item at itemTab + i * itemStride bytes: a tap count, the byte
;; offset in a dx image of each of the 4 pixels ((ih * W + iw) * Cin * 4; -1: no pixel, nothing
;; stored), then per tap (kh, kw) its offset in a packed filter group ((kh * KW + kw) * Cout * 32)
;; and, per pixel, the byte offset of the dy pixel it meets in a dy image ((oh * OW + ow) * Cout * 4;
;; -1 where this tap misses dy for that pixel: it reads the Cout zeros at `zero` instead; only items
;; that mix pixels of different tap sets have such products with zeros). `bands` holds `nbands`
;; int32 counts: the items of an image are processed band after band, so that the dy and dx of one
;; band stay in cache while every group of input channels passes over them.
;; The filter is packed by the caller in groups of 8 input channels: wp[g][kh][kw][co][8] (the last
;; group zero-filled past Cin), gStride = KH * KW * Cout * 32 bytes per group, so that the 8
;; channels of one (tap, co) are two consecutive float32x4.
;;
;; Register blocking: 4 dx pixels by one group of 8 input channels = 8 float32x4 accumulators; per
;; output channel, 2 filter vectors shared by the 4 pixels, 4 dy values (each a v128.load32_splat),
;; 8 multiplies and 8 adds (no FMA in WebAssembly SIMD). Measured on the bench CNN's call (V8,
;; x64): 5 or 6 pixels (10-12 accumulators) were 1.7-1.9x slower, 3 pixels 1.25x slower, and
;; unrolling 2 or 4 output channels per iteration 1.5-1.8x slower (register spills, presumably).
;; Every dx element is thus a float32 sum of its products in (kh, kw, co) order, plus exact zeros.
;; Loop order: image, band, group g, item, taps, co. A full group is stored with two v128.store per
;; pixel; the last group's Cin % 8 channels go through the 8 floats at `spare`. Nothing but dx and
;; spare is written.
;;
;; Pointers and strides are byte offsets; pixels = H * W; dyImage = OH * OW * Cout * 4.
;;
;; Assemble with `pnpm --filter @wider/backend build:wasm` (wabt); the bytes are committed in
;; src/convInputGradWasm.ts and a test checks that they match this source.
(module
  (import "env" "memory" (memory 0))

  (func (export "inputGrad")
    (param $dy i32) (param $wp i32) (param $dx i32) (param $itemTab i32) (param $zero i32)
    (param $spare i32) (param $batch i32) (param $pixels i32) (param $cin i32) (param $cout i32)
    (param $dyImage i32) (param $bands i32) (param $nbands i32) (param $itemStride i32)
    (param $gStride i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $s v128) (local $w0 v128) (local $w1 v128)
    (local $n i32) (local $i i32) (local $b i32) (local $first i32) (local $end i32) (local $g i32) (local $groups i32)
    (local $ip i32) (local $cc i32) (local $wg i32)
    (local $c i32) (local $tq i32) 
    (local $d0 i32) (local $d1 i32) (local $d2 i32) (local $d3 i32) (local $t i32)
    (local $q i32) (local $k i32) (local $out i32) (local $left i32) (local $gOff i32)
    (local $dxImage i32)
    (local.set $groups (i32.shr_u (i32.add (local.get $cin) (i32.const 7)) (i32.const 3)))
    (local.set $dxImage (i32.mul (local.get $pixels) (i32.shl (local.get $cin) (i32.const 2))))
    (if (i32.or (i32.or (i32.eqz (local.get $groups)) (i32.eqz (local.get $pixels)))
          (i32.eqz (local.get $nbands)))
      (then (return)))
    (local.set $n (local.get $batch))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.eqz (local.get $n)))
        (local.set $b (i32.const 0))
        (local.set $end (i32.const 0))
        (loop $bands_loop
        ;; items first .. end - 1 of the image: band b
        (local.set $first (local.get $end))
        (local.set $end (i32.add (local.get $first)
          (i32.load (i32.add (local.get $bands) (i32.shl (local.get $b) (i32.const 2))))))
        (local.set $g (i32.const 0))
        (loop $groups_loop
            (local.set $wg (i32.add (local.get $wp) (i32.mul (local.get $g) (local.get $gStride))))
            (local.set $gOff (i32.add (local.get $dx) (i32.shl (local.get $g) (i32.const 5))))
            (local.set $left (i32.sub (local.get $cin) (i32.shl (local.get $g) (i32.const 3))))
            (local.set $i (local.get $first))
            (block $items_done
            (loop $items_loop
              (br_if $items_done (i32.ge_u (local.get $i) (local.get $end)))
              (local.set $ip (i32.add (local.get $itemTab) (i32.mul (local.get $i) (local.get $itemStride))))
              (local.set $cc (i32.load (local.get $ip)))
              (local.set $a0 (v128.const i32x4 0 0 0 0))
              (local.set $a1 (v128.const i32x4 0 0 0 0))
              (local.set $a2 (v128.const i32x4 0 0 0 0))
              (local.set $a3 (v128.const i32x4 0 0 0 0))
              (local.set $a4 (v128.const i32x4 0 0 0 0))
              (local.set $a5 (v128.const i32x4 0 0 0 0))
              (local.set $a6 (v128.const i32x4 0 0 0 0))
              (local.set $a7 (v128.const i32x4 0 0 0 0))
              (local.set $c (local.get $cc))
              (local.set $tq (i32.add (local.get $ip) (i32.const 20)))
              (block $taps_done
                (loop $taps
                      (br_if $taps_done (i32.eqz (local.get $c)))
                      (local.set $q (i32.add (local.get $wg) (i32.load (local.get $tq))))
                      (local.set $t (i32.load offset=4 (local.get $tq)))
                      (local.set $d0 (select (local.get $zero) (i32.add (local.get $dy) (local.get $t))
                        (i32.lt_s (local.get $t) (i32.const 0))))
                      (local.set $t (i32.load offset=8 (local.get $tq)))
                      (local.set $d1 (select (local.get $zero) (i32.add (local.get $dy) (local.get $t))
                        (i32.lt_s (local.get $t) (i32.const 0))))
                      (local.set $t (i32.load offset=12 (local.get $tq)))
                      (local.set $d2 (select (local.get $zero) (i32.add (local.get $dy) (local.get $t))
                        (i32.lt_s (local.get $t) (i32.const 0))))
                      (local.set $t (i32.load offset=16 (local.get $tq)))
                      (local.set $d3 (select (local.get $zero) (i32.add (local.get $dy) (local.get $t))
                        (i32.lt_s (local.get $t) (i32.const 0))))
                      (local.set $k (local.get $cout))
                      (block $co_done
                        (loop $co
                          (br_if $co_done (i32.eqz (local.get $k)))
                          (local.set $w0 (v128.load offset=0 align=4 (local.get $q)))
                          (local.set $w1 (v128.load offset=16 align=4 (local.get $q)))
                          (local.set $s (v128.load32_splat offset=0 (local.get $d0)))
                          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $w0))))
                          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $w1))))
                          (local.set $s (v128.load32_splat offset=0 (local.get $d1)))
                          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (local.get $w0))))
                          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (local.get $w1))))
                          (local.set $s (v128.load32_splat offset=0 (local.get $d2)))
                          (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $s) (local.get $w0))))
                          (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $s) (local.get $w1))))
                          (local.set $s (v128.load32_splat offset=0 (local.get $d3)))
                          (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $s) (local.get $w0))))
                          (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $s) (local.get $w1))))
                          (local.set $d0 (i32.add (local.get $d0) (i32.const 4)))
                          (local.set $d1 (i32.add (local.get $d1) (i32.const 4)))
                          (local.set $d2 (i32.add (local.get $d2) (i32.const 4)))
                          (local.set $d3 (i32.add (local.get $d3) (i32.const 4)))
                          (local.set $q (i32.add (local.get $q) (i32.const 32)))
                          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                          (br $co)))
                      (local.set $tq (i32.add (local.get $tq) (i32.const 20)))
                      (local.set $c (i32.sub (local.get $c) (i32.const 1)))
                      (br $taps)))
              (local.set $t (i32.load offset=4 (local.get $ip)))
              (if (i32.ge_s (local.get $t) (i32.const 0))
                (then
                  (local.set $out (i32.add (local.get $gOff) (local.get $t)))
                  (if (i32.ge_u (local.get $left) (i32.const 8))
                    (then
                      (v128.store align=4 (local.get $out) (local.get $a0))
                      (v128.store offset=16 align=4 (local.get $out) (local.get $a1)))
                    (else
                      (v128.store align=4 (local.get $spare) (local.get $a0))
                      (v128.store offset=16 align=4 (local.get $spare) (local.get $a1))
                      (local.set $k (i32.const 0))
                      (loop $tail0
                        (f32.store (i32.add (local.get $out) (local.get $k))
                          (f32.load (i32.add (local.get $spare) (local.get $k))))
                        (local.set $k (i32.add (local.get $k) (i32.const 4)))
                        (br_if $tail0 (i32.lt_u (local.get $k) (i32.shl (local.get $left) (i32.const 2)))))))))
              (local.set $t (i32.load offset=8 (local.get $ip)))
              (if (i32.ge_s (local.get $t) (i32.const 0))
                (then
                  (local.set $out (i32.add (local.get $gOff) (local.get $t)))
                  (if (i32.ge_u (local.get $left) (i32.const 8))
                    (then
                      (v128.store align=4 (local.get $out) (local.get $a2))
                      (v128.store offset=16 align=4 (local.get $out) (local.get $a3)))
                    (else
                      (v128.store align=4 (local.get $spare) (local.get $a2))
                      (v128.store offset=16 align=4 (local.get $spare) (local.get $a3))
                      (local.set $k (i32.const 0))
                      (loop $tail1
                        (f32.store (i32.add (local.get $out) (local.get $k))
                          (f32.load (i32.add (local.get $spare) (local.get $k))))
                        (local.set $k (i32.add (local.get $k) (i32.const 4)))
                        (br_if $tail1 (i32.lt_u (local.get $k) (i32.shl (local.get $left) (i32.const 2)))))))))
              (local.set $t (i32.load offset=12 (local.get $ip)))
              (if (i32.ge_s (local.get $t) (i32.const 0))
                (then
                  (local.set $out (i32.add (local.get $gOff) (local.get $t)))
                  (if (i32.ge_u (local.get $left) (i32.const 8))
                    (then
                      (v128.store align=4 (local.get $out) (local.get $a4))
                      (v128.store offset=16 align=4 (local.get $out) (local.get $a5)))
                    (else
                      (v128.store align=4 (local.get $spare) (local.get $a4))
                      (v128.store offset=16 align=4 (local.get $spare) (local.get $a5))
                      (local.set $k (i32.const 0))
                      (loop $tail2
                        (f32.store (i32.add (local.get $out) (local.get $k))
                          (f32.load (i32.add (local.get $spare) (local.get $k))))
                        (local.set $k (i32.add (local.get $k) (i32.const 4)))
                        (br_if $tail2 (i32.lt_u (local.get $k) (i32.shl (local.get $left) (i32.const 2)))))))))
              (local.set $t (i32.load offset=16 (local.get $ip)))
              (if (i32.ge_s (local.get $t) (i32.const 0))
                (then
                  (local.set $out (i32.add (local.get $gOff) (local.get $t)))
                  (if (i32.ge_u (local.get $left) (i32.const 8))
                    (then
                      (v128.store align=4 (local.get $out) (local.get $a6))
                      (v128.store offset=16 align=4 (local.get $out) (local.get $a7)))
                    (else
                      (v128.store align=4 (local.get $spare) (local.get $a6))
                      (v128.store offset=16 align=4 (local.get $spare) (local.get $a7))
                      (local.set $k (i32.const 0))
                      (loop $tail3
                        (f32.store (i32.add (local.get $out) (local.get $k))
                          (f32.load (i32.add (local.get $spare) (local.get $k))))
                        (local.set $k (i32.add (local.get $k) (i32.const 4)))
                        (br_if $tail3 (i32.lt_u (local.get $k) (i32.shl (local.get $left) (i32.const 2)))))))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $items_loop)))
            (local.set $g (i32.add (local.get $g) (i32.const 1)))
            (br_if $groups_loop (i32.lt_u (local.get $g) (local.get $groups))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br_if $bands_loop (i32.lt_u (local.get $b) (local.get $nbands))))
        (local.set $dx (i32.add (local.get $dx) (local.get $dxImage)))
        (local.set $dy (i32.add (local.get $dy) (local.get $dyImage)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $images))))
)
