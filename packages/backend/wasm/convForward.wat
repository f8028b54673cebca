;; Conv2D (NHWC input, HWIO filter) for the tfjs wasm backend, computed directly:
;;   y[n, oh, ow, co] = bias[co] + sum over k of xp[n, oh * sH + kh * dH, ow * sW + kw * dW, ci] * w[k, co]
;; with k = (kh * KW + kw) * Cin + ci (the HWIO filter is already the [KH * KW * Cin, Cout] matrix
;; of a GEMM, read where it lies, no packing) and `xp` the input with its padding made explicit
;; (zeros, copied by `pad` below; the caller passes the input itself when there is no padding to
;; add). A pixel's patch starts at its corner, `corners[p]` bytes into its image (a table of the
;; OH * OW pixels of one image, which the caller fills); tap k lies `offs[k]` = ((kh * dH * Wp + kw * dW) * Cin + ci) * 4
;; bytes past it. So the convolution is a GEMM of the implicit (never built) patch matrix with the
;; filter, in which neither operand is copied or packed.
;;
;; Register blocking: 4 output pixels by 8 output channels (two f32x4) = 8 float32x4 accumulators,
;; started at the bias and held in locals over all k taps; per tap, the 8 filter values (two loads)
;; and the 4 pixels' x values (each one v128.load32_splat), 8 multiplies and 8 adds (no FMA in
;; WebAssembly SIMD); then stored once, through relu when $relu is not 0 (`a < 0 ? 0 : a`, i.e.
;; f32x4.pmax(a, 0): NaN stays NaN, as in tfjs's relu). Columns: blocks of 8, then one of 4, then
;; single columns (Cout % 4) in scalar float32. Pixels run through the whole batch in groups of 4 (a
;; group may straddle two images); the 1-3 missing pixels of the last group read the first one's
;; patch and write to `spare` (Cout floats of scratch).
;; Loop order: group of 4 pixels, column block, taps: the 4 patches stay in L1 while all the
;; blocks pass over them (the filter is re-read from cache for every group: the caller keeps the
;; module to filters that fit in L2). Every sum is a float32 sum in tap order k, starting at the
;; bias.
;;
;; Pointers and strides are byte offsets: xImage = Hp * Wp * Cin * 4; pixels = OH * OW; k = KH * KW
;; * Cin and cout the sizes of the filter; bias holds cout floats (zeros for none); relu 0 or 1.
;; Nothing but y and spare is written (nothing at all when batch, pixels, k or cout is 0).
;;
;; Assemble with `pnpm --filter @wider/backend build:wasm` (wabt); the bytes are committed in
;; src/convForwardWasm.ts and a test checks that they match this source.
(module
  (import "env" "memory" (memory 0))

  (func $block8
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32)
    (param $y0 i32) (param $y1 i32) (param $y2 i32) (param $y3 i32)
    (param $w i32) (param $b i32) (param $offs i32) (param $k i32) (param $wRow i32)
    (param $relu i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128) (local $o i32)
    (local.set $d0 (v128.load align=4 (local.get $b)))
    (local.set $d1 (v128.load offset=16 align=4 (local.get $b)))
    (local.set $a00 (local.get $d0)) (local.set $a01 (local.get $d1))
    (local.set $a10 (local.get $d0)) (local.set $a11 (local.get $d1))
    (local.set $a20 (local.get $d0)) (local.set $a21 (local.get $d1))
    (local.set $a30 (local.get $d0)) (local.set $a31 (local.get $d1))
    (loop $taps
      (local.set $o (i32.load (local.get $offs)))
      (local.set $d0 (v128.load align=4 (local.get $w)))
      (local.set $d1 (v128.load offset=16 align=4 (local.get $w)))
      (local.set $s (v128.load32_splat (i32.add (local.get $c0) (local.get $o))))
      (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
      (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
      (local.set $s (v128.load32_splat (i32.add (local.get $c1) (local.get $o))))
      (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
      (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $d1))))
      (local.set $s (v128.load32_splat (i32.add (local.get $c2) (local.get $o))))
      (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
      (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $d1))))
      (local.set $s (v128.load32_splat (i32.add (local.get $c3) (local.get $o))))
      (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
      (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $d1))))
      (local.set $offs (i32.add (local.get $offs) (i32.const 4)))
      (local.set $w (i32.add (local.get $w) (local.get $wRow)))
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $taps (local.get $k)))
    (if (local.get $relu)
      (then
        (local.set $a00 (f32x4.pmax (local.get $a00) (v128.const i32x4 0 0 0 0)))
        (local.set $a01 (f32x4.pmax (local.get $a01) (v128.const i32x4 0 0 0 0)))
        (local.set $a10 (f32x4.pmax (local.get $a10) (v128.const i32x4 0 0 0 0)))
        (local.set $a11 (f32x4.pmax (local.get $a11) (v128.const i32x4 0 0 0 0)))
        (local.set $a20 (f32x4.pmax (local.get $a20) (v128.const i32x4 0 0 0 0)))
        (local.set $a21 (f32x4.pmax (local.get $a21) (v128.const i32x4 0 0 0 0)))
        (local.set $a30 (f32x4.pmax (local.get $a30) (v128.const i32x4 0 0 0 0)))
        (local.set $a31 (f32x4.pmax (local.get $a31) (v128.const i32x4 0 0 0 0)))))
    (v128.store align=4 (local.get $y0) (local.get $a00))
    (v128.store offset=16 align=4 (local.get $y0) (local.get $a01))
    (v128.store align=4 (local.get $y1) (local.get $a10))
    (v128.store offset=16 align=4 (local.get $y1) (local.get $a11))
    (v128.store align=4 (local.get $y2) (local.get $a20))
    (v128.store offset=16 align=4 (local.get $y2) (local.get $a21))
    (v128.store align=4 (local.get $y3) (local.get $a30))
    (v128.store offset=16 align=4 (local.get $y3) (local.get $a31)))

  (func $block4
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32)
    (param $y0 i32) (param $y1 i32) (param $y2 i32) (param $y3 i32)
    (param $w i32) (param $b i32) (param $offs i32) (param $k i32) (param $wRow i32)
    (param $relu i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $d0 v128) (local $o i32)
    (local.set $d0 (v128.load align=4 (local.get $b)))
    (local.set $a0 (local.get $d0))
    (local.set $a1 (local.get $d0))
    (local.set $a2 (local.get $d0))
    (local.set $a3 (local.get $d0))
    (loop $taps
      (local.set $o (i32.load (local.get $offs)))
      (local.set $d0 (v128.load align=4 (local.get $w)))
      (local.set $a0 (f32x4.add (local.get $a0)
        (f32x4.mul (v128.load32_splat (i32.add (local.get $c0) (local.get $o))) (local.get $d0))))
      (local.set $a1 (f32x4.add (local.get $a1)
        (f32x4.mul (v128.load32_splat (i32.add (local.get $c1) (local.get $o))) (local.get $d0))))
      (local.set $a2 (f32x4.add (local.get $a2)
        (f32x4.mul (v128.load32_splat (i32.add (local.get $c2) (local.get $o))) (local.get $d0))))
      (local.set $a3 (f32x4.add (local.get $a3)
        (f32x4.mul (v128.load32_splat (i32.add (local.get $c3) (local.get $o))) (local.get $d0))))
      (local.set $offs (i32.add (local.get $offs) (i32.const 4)))
      (local.set $w (i32.add (local.get $w) (local.get $wRow)))
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $taps (local.get $k)))
    (if (local.get $relu)
      (then
        (local.set $a0 (f32x4.pmax (local.get $a0) (v128.const i32x4 0 0 0 0)))
        (local.set $a1 (f32x4.pmax (local.get $a1) (v128.const i32x4 0 0 0 0)))
        (local.set $a2 (f32x4.pmax (local.get $a2) (v128.const i32x4 0 0 0 0)))
        (local.set $a3 (f32x4.pmax (local.get $a3) (v128.const i32x4 0 0 0 0)))))
    (v128.store align=4 (local.get $y0) (local.get $a0))
    (v128.store align=4 (local.get $y1) (local.get $a1))
    (v128.store align=4 (local.get $y2) (local.get $a2))
    (v128.store align=4 (local.get $y3) (local.get $a3)))

  (func $block1
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32)
    (param $y0 i32) (param $y1 i32) (param $y2 i32) (param $y3 i32)
    (param $w i32) (param $b i32) (param $offs i32) (param $k i32) (param $wRow i32)
    (param $relu i32)
    (local $a0 f32) (local $a1 f32) (local $a2 f32) (local $a3 f32)
    (local $d f32) (local $o i32)
    (local.set $d (f32.load (local.get $b)))
    (local.set $a0 (local.get $d))
    (local.set $a1 (local.get $d))
    (local.set $a2 (local.get $d))
    (local.set $a3 (local.get $d))
    (loop $taps
      (local.set $o (i32.load (local.get $offs)))
      (local.set $d (f32.load (local.get $w)))
      (local.set $a0 (f32.add (local.get $a0)
        (f32.mul (f32.load (i32.add (local.get $c0) (local.get $o))) (local.get $d))))
      (local.set $a1 (f32.add (local.get $a1)
        (f32.mul (f32.load (i32.add (local.get $c1) (local.get $o))) (local.get $d))))
      (local.set $a2 (f32.add (local.get $a2)
        (f32.mul (f32.load (i32.add (local.get $c2) (local.get $o))) (local.get $d))))
      (local.set $a3 (f32.add (local.get $a3)
        (f32.mul (f32.load (i32.add (local.get $c3) (local.get $o))) (local.get $d))))
      (local.set $offs (i32.add (local.get $offs) (i32.const 4)))
      (local.set $w (i32.add (local.get $w) (local.get $wRow)))
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $taps (local.get $k)))
    (if (local.get $relu)
      (then
        (local.set $a0 (select (f32.const 0) (local.get $a0) (f32.lt (local.get $a0) (f32.const 0))))
        (local.set $a1 (select (f32.const 0) (local.get $a1) (f32.lt (local.get $a1) (f32.const 0))))
        (local.set $a2 (select (f32.const 0) (local.get $a2) (f32.lt (local.get $a2) (f32.const 0))))
        (local.set $a3 (select (f32.const 0) (local.get $a3) (f32.lt (local.get $a3) (f32.const 0))))))
    (f32.store (local.get $y0) (local.get $a0))
    (f32.store (local.get $y1) (local.get $a1))
    (f32.store (local.get $y2) (local.get $a2))
    (f32.store (local.get $y3) (local.get $a3)))

  (func (export "conv")
    (param $x i32) (param $w i32) (param $y i32) (param $bias i32) (param $offs i32)
    (param $corners i32) (param $spare i32)
    (param $batch i32) (param $pixels i32) (param $xImage i32) (param $k i32) (param $cout i32)
    (param $relu i32)
    (local $pix i32) (local $left i32) (local $img i32) (local $pos i32) (local $cb i32)
    (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $y0 i32) (local $y1 i32) (local $y2 i32) (local $y3 i32)
    (local.set $left (i32.mul (local.get $batch) (local.get $pixels)))
    (if (i32.or (i32.eqz (local.get $left))
          (i32.or (i32.eqz (local.get $k)) (i32.eqz (local.get $cout))))
      (then (return)))
    (local.set $pix (i32.shl (local.get $cout) (i32.const 2)))
    (local.set $img (local.get $x))
    (loop $groups
      ;; the next 4 pixels (missing ones: the first one's patch, written to $spare)
      (local.set $c0 (i32.add (local.get $img)
        (i32.load (i32.add (local.get $corners) (i32.shl (local.get $pos) (i32.const 2))))))
      (local.set $y0 (local.get $y))
      (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
      (if (i32.eq (local.get $pos) (local.get $pixels))
        (then (local.set $pos (i32.const 0))
          (local.set $img (i32.add (local.get $img) (local.get $xImage)))))
      (if (i32.gt_u (local.get $left) (i32.const 1))
        (then
          (local.set $c1 (i32.add (local.get $img)
            (i32.load (i32.add (local.get $corners) (i32.shl (local.get $pos) (i32.const 2))))))
          (local.set $y1 (i32.add (local.get $y) (local.get $pix)))
          (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
          (if (i32.eq (local.get $pos) (local.get $pixels))
            (then (local.set $pos (i32.const 0))
              (local.set $img (i32.add (local.get $img) (local.get $xImage))))))
        (else (local.set $c1 (local.get $c0)) (local.set $y1 (local.get $spare))))
      (if (i32.gt_u (local.get $left) (i32.const 2))
        (then
          (local.set $c2 (i32.add (local.get $img)
            (i32.load (i32.add (local.get $corners) (i32.shl (local.get $pos) (i32.const 2))))))
          (local.set $y2 (i32.add (local.get $y) (i32.mul (local.get $pix) (i32.const 2))))
          (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
          (if (i32.eq (local.get $pos) (local.get $pixels))
            (then (local.set $pos (i32.const 0))
              (local.set $img (i32.add (local.get $img) (local.get $xImage))))))
        (else (local.set $c2 (local.get $c0)) (local.set $y2 (local.get $spare))))
      (if (i32.gt_u (local.get $left) (i32.const 3))
        (then
          (local.set $c3 (i32.add (local.get $img)
            (i32.load (i32.add (local.get $corners) (i32.shl (local.get $pos) (i32.const 2))))))
          (local.set $y3 (i32.add (local.get $y) (i32.mul (local.get $pix) (i32.const 3))))
          (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
          (if (i32.eq (local.get $pos) (local.get $pixels))
            (then (local.set $pos (i32.const 0))
              (local.set $img (i32.add (local.get $img) (local.get $xImage))))))
        (else (local.set $c3 (local.get $c0)) (local.set $y3 (local.get $spare))))
      (local.set $cb (i32.const 0))
      (block $b8_done
        (loop $b8
          (br_if $b8_done (i32.gt_u (i32.add (local.get $cb) (i32.const 32)) (local.get $pix)))
          (call $block8 (local.get $c0) (local.get $c1) (local.get $c2) (local.get $c3)
              (i32.add (local.get $y0) (local.get $cb)) (i32.add (local.get $y1) (local.get $cb))
              (i32.add (local.get $y2) (local.get $cb)) (i32.add (local.get $y3) (local.get $cb))
              (i32.add (local.get $w) (local.get $cb)) (i32.add (local.get $bias) (local.get $cb))
              (local.get $offs) (local.get $k) (local.get $pix) (local.get $relu))
          (local.set $cb (i32.add (local.get $cb) (i32.const 32)))
          (br $b8)))
      (if (i32.le_u (i32.add (local.get $cb) (i32.const 16)) (local.get $pix))
        (then
          (call $block4 (local.get $c0) (local.get $c1) (local.get $c2) (local.get $c3)
              (i32.add (local.get $y0) (local.get $cb)) (i32.add (local.get $y1) (local.get $cb))
              (i32.add (local.get $y2) (local.get $cb)) (i32.add (local.get $y3) (local.get $cb))
              (i32.add (local.get $w) (local.get $cb)) (i32.add (local.get $bias) (local.get $cb))
              (local.get $offs) (local.get $k) (local.get $pix) (local.get $relu))
          (local.set $cb (i32.add (local.get $cb) (i32.const 16)))))
      (block $b1_done
        (loop $b1
          (br_if $b1_done (i32.ge_u (local.get $cb) (local.get $pix)))
          (call $block1 (local.get $c0) (local.get $c1) (local.get $c2) (local.get $c3)
              (i32.add (local.get $y0) (local.get $cb)) (i32.add (local.get $y1) (local.get $cb))
              (i32.add (local.get $y2) (local.get $cb)) (i32.add (local.get $y3) (local.get $cb))
              (i32.add (local.get $w) (local.get $cb)) (i32.add (local.get $bias) (local.get $cb))
              (local.get $offs) (local.get $k) (local.get $pix) (local.get $relu))
          (local.set $cb (i32.add (local.get $cb) (i32.const 4)))
          (br $b1)))
      (local.set $y (i32.add (local.get $y) (i32.shl (local.get $pix) (i32.const 2))))
      (local.set $left (i32.sub (local.get $left) (i32.const 4)))
      (br_if $groups (i32.gt_s (local.get $left) (i32.const 0)))))

  ;; The zero-padded copy `xp` of x [batch, h, ., C] that the convolution reads (as padInto in
  ;; src/convFilterGrad.ts, which it replaces here: a JS copy row by row took as long as the
  ;; convolution itself on small strided layers): `total` bytes of xp zeroed, then for each image
  ;; and each padded row r whose input row ih = r - top lies in [0, h), the `copy` bytes of x's row
  ;; ih from byte `src` of the row go to xp's row r at byte `dst`. xRow and xpRow are the bytes of a
  ;; row of x and of xp, height the rows of an xp image. Nothing but xp is written.
  (func (export "pad")
    (param $x i32) (param $xp i32) (param $total i32) (param $batch i32) (param $h i32)
    (param $xRow i32) (param $height i32) (param $xpRow i32) (param $top i32)
    (param $src i32) (param $dst i32) (param $copy i32)
    (local $n i32) (local $r i32) (local $ih i32)
    (memory.fill (local.get $xp) (i32.const 0) (local.get $total))
    (if (i32.le_s (local.get $copy) (i32.const 0)) (then (return)))
    (local.set $n (local.get $batch))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.eqz (local.get $n)))
        (local.set $r (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_s (local.get $r) (local.get $height)))
            (local.set $ih (i32.sub (local.get $r) (local.get $top)))
            (if (i32.and (i32.ge_s (local.get $ih) (i32.const 0))
                  (i32.lt_s (local.get $ih) (local.get $h)))
              (then
                (memory.copy
                  (i32.add (i32.add (local.get $xp) (i32.mul (local.get $r) (local.get $xpRow)))
                    (local.get $dst))
                  (i32.add (i32.add (local.get $x) (i32.mul (local.get $ih) (local.get $xRow)))
                    (local.get $src))
                  (local.get $copy))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $x (i32.add (local.get $x) (i32.mul (local.get $h) (local.get $xRow))))
        (local.set $xp (i32.add (local.get $xp) (i32.mul (local.get $height) (local.get $xpRow))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $images))))
)
