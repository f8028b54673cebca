;; Conv2DBackpropInput (NHWC dy, HWIO filter) for the tfjs wasm backend, computed directly:
;;   dx[n, ih, iw, ci] = sum over (kh, kw, co) with ih = oh * sH + kh * dH - padT,
;;                       iw = ow * sW + kw * dW - padL, 0 <= oh < OH, 0 <= ow < OW, of
;;                       dy[n, oh, ow, co] * w[kh, kw, ci, co]
;; No zero-inserted or padded dy is built: the taps (kh, oh) that land on a dy row do not depend on
;; the column, so the caller passes, per dx row ih at rowTab + ih * rowStride bytes, a count, then
;; per such tap the byte offset of dy row oh in an image (oh * OW * Cout * 4) and of filter row kh
;; in a packed group (kh * KW * Cout * 32); no product with a row of padding is computed.
;; Columns go in items of 4 dx pixels of one row (columns of the same phase mod sW: iw, iw + sW, ..
;; so that one filter tap kw meets dy columns ow, ow + 1, ..): `items` per row, at colTab +
;; i * itemStride bytes: a tap count, the byte offset in a dx row of each of the 4 pixels
;; (iw * Cin * 4; -1: no pixel, nothing stored), then per tap the offset of filter column kw in a
;; packed filter row (kw * Cout * 32) and, per pixel, the byte offset of its dy column in a dy row
;; (ow * Cout * 4; -1 where this kw does not meet a dy column for that pixel: it reads the Cout
;; zeros at `zero` instead, the only products with zeros computed, at the edges of a row).
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
;; Loop order: image, row ih, group g, item, taps: one group's filter (at most KH * KW * Cout * 32
;; bytes) and the dy rows of one dx row stay in L1 while every item of the row uses them.
;; A full group is stored with two v128.store per pixel; the last group's Cin % 8 channels go
;; through the 8 floats at `spare`. Nothing but dx and spare is written.
;;
;; Pointers and strides are byte offsets; dyImage = OH * OW * Cout * 4.
;;
;; Assemble with `pnpm --filter @wider/backend build:wasm` (wabt); the bytes are committed in
;; src/convInputGradWasm.ts and a test checks that they match this source.
(module
  (import "env" "memory" (memory 0))

  (func (export "inputGrad")
    (param $dy i32) (param $wp i32) (param $dx i32) (param $rowTab i32) (param $colTab i32)
    (param $zero i32) (param $spare i32) (param $batch i32) (param $h i32) (param $w i32)
    (param $cin i32) (param $cout i32) (param $dyImage i32) (param $rowStride i32)
    (param $items i32) (param $itemStride i32) (param $gStride i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $s v128) (local $w0 v128) (local $w1 v128)
    (local $n i32) (local $ih i32) (local $i i32) (local $g i32) (local $groups i32)
    (local $rp i32) (local $rc i32) (local $ip i32) (local $cc i32) (local $wg i32)
    (local $r i32) (local $c i32) (local $rq i32) (local $tq i32) (local $dr i32) (local $wr i32)
    (local $d0 i32) (local $d1 i32) (local $d2 i32) (local $d3 i32) (local $t i32)
    (local $q i32) (local $k i32) (local $out i32) (local $left i32) (local $gOff i32)
    (local $dxRow i32) (local $dxImage i32)
    (local.set $groups (i32.shr_u (i32.add (local.get $cin) (i32.const 7)) (i32.const 3)))
    (local.set $dxImage
      (i32.mul (i32.mul (local.get $h) (local.get $w)) (i32.shl (local.get $cin) (i32.const 2))))
    (if (i32.or (i32.or (i32.eqz (local.get $groups)) (i32.eqz (local.get $h)))
          (i32.eqz (local.get $items)))
      (then (return)))
    (local.set $n (local.get $batch))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.eqz (local.get $n)))
        (local.set $ih (i32.const 0))
        (loop $rows
          (local.set $rp (i32.add (local.get $rowTab) (i32.mul (local.get $ih) (local.get $rowStride))))
          (local.set $rc (i32.load (local.get $rp)))
          (local.set $dxRow (i32.add (local.get $dx)
            (i32.mul (i32.mul (local.get $ih) (local.get $w)) (i32.shl (local.get $cin) (i32.const 2)))))
          (local.set $g (i32.const 0))
          (loop $groups_loop
            (local.set $wg (i32.add (local.get $wp) (i32.mul (local.get $g) (local.get $gStride))))
            (local.set $gOff (i32.shl (local.get $g) (i32.const 5)))
            (local.set $left (i32.sub (local.get $cin) (i32.shl (local.get $g) (i32.const 3))))
            (local.set $i (i32.const 0))
            (loop $items_loop
              (local.set $ip (i32.add (local.get $colTab) (i32.mul (local.get $i) (local.get $itemStride))))
              (local.set $cc (i32.load (local.get $ip)))
              (local.set $a0 (v128.const i32x4 0 0 0 0))
              (local.set $a1 (v128.const i32x4 0 0 0 0))
              (local.set $a2 (v128.const i32x4 0 0 0 0))
              (local.set $a3 (v128.const i32x4 0 0 0 0))
              (local.set $a4 (v128.const i32x4 0 0 0 0))
              (local.set $a5 (v128.const i32x4 0 0 0 0))
              (local.set $a6 (v128.const i32x4 0 0 0 0))
              (local.set $a7 (v128.const i32x4 0 0 0 0))
              (local.set $r (local.get $rc))
              (local.set $rq (i32.add (local.get $rp) (i32.const 4)))
              (block $taps_rows_done
                (loop $taps_rows
                  (br_if $taps_rows_done (i32.eqz (local.get $r)))
                  (local.set $dr (i32.add (local.get $dy) (i32.load (local.get $rq))))
                  (local.set $wr (i32.add (local.get $wg) (i32.load offset=4 (local.get $rq))))
                  (local.set $c (local.get $cc))
                  (local.set $tq (i32.add (local.get $ip) (i32.const 20)))
                  (block $taps_cols_done
                    (loop $taps_cols
                      (br_if $taps_cols_done (i32.eqz (local.get $c)))
                      (local.set $q (i32.add (local.get $wr) (i32.load (local.get $tq))))
                      (local.set $t (i32.load offset=4 (local.get $tq)))
                      (local.set $d0 (select (local.get $zero) (i32.add (local.get $dr) (local.get $t))
                        (i32.lt_s (local.get $t) (i32.const 0))))
                      (local.set $t (i32.load offset=8 (local.get $tq)))
                      (local.set $d1 (select (local.get $zero) (i32.add (local.get $dr) (local.get $t))
                        (i32.lt_s (local.get $t) (i32.const 0))))
                      (local.set $t (i32.load offset=12 (local.get $tq)))
                      (local.set $d2 (select (local.get $zero) (i32.add (local.get $dr) (local.get $t))
                        (i32.lt_s (local.get $t) (i32.const 0))))
                      (local.set $t (i32.load offset=16 (local.get $tq)))
                      (local.set $d3 (select (local.get $zero) (i32.add (local.get $dr) (local.get $t))
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
                      (br $taps_cols)))
                  (local.set $rq (i32.add (local.get $rq) (i32.const 8)))
                  (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                  (br $taps_rows)))
              (local.set $t (i32.load offset=4 (local.get $ip)))
              (if (i32.ge_s (local.get $t) (i32.const 0))
                (then
                  (local.set $out (i32.add (i32.add (local.get $dxRow) (local.get $t)) (local.get $gOff)))
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
                  (local.set $out (i32.add (i32.add (local.get $dxRow) (local.get $t)) (local.get $gOff)))
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
                  (local.set $out (i32.add (i32.add (local.get $dxRow) (local.get $t)) (local.get $gOff)))
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
                  (local.set $out (i32.add (i32.add (local.get $dxRow) (local.get $t)) (local.get $gOff)))
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
              (br_if $items_loop (i32.lt_u (local.get $i) (local.get $items))))
            (local.set $g (i32.add (local.get $g) (i32.const 1)))
            (br_if $groups_loop (i32.lt_u (local.get $g) (local.get $groups))))
          (local.set $ih (i32.add (local.get $ih) (i32.const 1)))
          (br_if $rows (i32.lt_u (local.get $ih) (local.get $h))))
        (local.set $dx (i32.add (local.get $dx) (local.get $dxImage)))
        (local.set $dy (i32.add (local.get $dy) (local.get $dyImage)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $images))))
)
