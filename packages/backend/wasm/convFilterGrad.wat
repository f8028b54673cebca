;; Conv2DBackpropFilter (NHWC input, HWIO filter) for the tfjs wasm backend, computed directly:
;;   dw[k, co] = sum over images n and output pixels (oh, ow) of
;;               xp[n, oh * sH + kh * dH, ow * sW + kw * dW, ci] * dy[n, oh, ow, co]
;; with k = (kh * KW + kw) * Cin + ci (the HWIO filter flattened to [KH * KW * Cin, Cout]) and `xp`
;; the input with its padding made explicit (zeros; the caller passes the input itself when there
;; is no padding to add). For one k, the tap's position relative to the pixel's patch corner is a
;; constant: `offs[k]` = ((kh * dH * Wp + kw * dW) * Cin + ci) * 4 bytes, a table the caller fills.
;; So the filter gradient is a GEMM of the implicit (never built) patch matrix with dy, in which
;; neither operand is copied or packed.
;;
;; Register blocking: 4 rows of k by 8 columns of co (two f32x4) = 8 float32x4 accumulators held in
;; locals over every pixel of one band; per pixel, the 8 dy values (two loads) and 4 x values (each
;; one v128.load32_splat), 8 multiplies and 8 adds (no FMA in WebAssembly SIMD). Columns: blocks of
;; 8, then one of 4, then single columns (Cout % 4) in scalar float32 (5 or 6 rows of 8 columns were
;; measured 1.1-1.5x slower: 10-12 accumulators, likely spilled from x64's 16 SIMD registers). Rows:
;; blocks of 4; the 1-3 missing rows of the last block read x at offset 0 and write to `spare` (Cout
;; floats of scratch).
;; Loop order: image, band of `bandRows` output rows, row block, column block, pixels: one band's dy
;; and x stay in cache while all the blocks pass over them (the caller sizes the band); the
;; accumulators are loaded from and stored to dw around each pass (dw is zeroed first). Every sum
;; is a float32 sum in pixel order (n, oh, ow).
;;
;; Pointers and strides are byte offsets: xImage = Hp * Wp * Cin * 4, xRow = sH * Wp * Cin * 4,
;; xCol = sW * Cin * 4; k = KH * KW * Cin and cout the sizes of dw; bandRows >= 1. Nothing but dw
;; and spare is written.
;;
;; Assemble with `pnpm --filter @wider/backend build:wasm` (wabt); the bytes are committed in
;; src/convFilterGradWasm.ts and a test checks that they match this source.
(module
  (import "env" "memory" (memory 0))

  ;; n float32 zeros from byte offset $p
  (func $zero (param $p i32) (param $n i32)
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.lt_u (local.get $n) (i32.const 4)))
        (v128.store align=4 (local.get $p) (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $n (i32.sub (local.get $n) (i32.const 4)))
        (br $simd)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.eqz (local.get $n)))
        (f32.store (local.get $p) (f32.const 0))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $tail))))

  ;; 4 rows x 8 columns: rows at $w0..$w3 (this block's 8 columns of each), taps $o0..$o3, over
  ;; $oh output rows of $ow pixels; $x: the patch corner of the first pixel; $q: dy of the first
  ;; pixel at this block's columns
  (func $block8
    (param $x i32) (param $q i32) (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $w3 i32)
    (param $oh i32) (param $ow i32) (param $xRow i32) (param $xCol i32) (param $dyPix i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local $r i32) (local $c i32) (local $p i32)
    (local.set $a00 (v128.load align=4 (local.get $w0)))
    (local.set $a01 (v128.load offset=16 align=4 (local.get $w0)))
    (local.set $a10 (v128.load align=4 (local.get $w1)))
    (local.set $a11 (v128.load offset=16 align=4 (local.get $w1)))
    (local.set $a20 (v128.load align=4 (local.get $w2)))
    (local.set $a21 (v128.load offset=16 align=4 (local.get $w2)))
    (local.set $a30 (v128.load align=4 (local.get $w3)))
    (local.set $a31 (v128.load offset=16 align=4 (local.get $w3)))
    (local.set $r (local.get $oh))
    (loop $rows
      (local.set $p (local.get $x))
      (local.set $c (local.get $ow))
      (loop $cols
        (local.set $d0 (v128.load align=4 (local.get $q)))
        (local.set $d1 (v128.load offset=16 align=4 (local.get $q)))
        (local.set $s (v128.load32_splat (i32.add (local.get $p) (local.get $o0))))
        (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $s (v128.load32_splat (i32.add (local.get $p) (local.get $o1))))
        (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $s (v128.load32_splat (i32.add (local.get $p) (local.get $o2))))
        (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $s (v128.load32_splat (i32.add (local.get $p) (local.get $o3))))
        (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $p (i32.add (local.get $p) (local.get $xCol)))
        (local.set $q (i32.add (local.get $q) (local.get $dyPix)))
        (local.set $c (i32.sub (local.get $c) (i32.const 1)))
        (br_if $cols (local.get $c)))
      (local.set $x (i32.add (local.get $x) (local.get $xRow)))
      (local.set $r (i32.sub (local.get $r) (i32.const 1)))
      (br_if $rows (local.get $r)))
    (v128.store align=4 (local.get $w0) (local.get $a00))
    (v128.store offset=16 align=4 (local.get $w0) (local.get $a01))
    (v128.store align=4 (local.get $w1) (local.get $a10))
    (v128.store offset=16 align=4 (local.get $w1) (local.get $a11))
    (v128.store align=4 (local.get $w2) (local.get $a20))
    (v128.store offset=16 align=4 (local.get $w2) (local.get $a21))
    (v128.store align=4 (local.get $w3) (local.get $a30))
    (v128.store offset=16 align=4 (local.get $w3) (local.get $a31)))

  ;; 4 rows x 4 columns (one f32x4 per row)
  (func $block4
    (param $x i32) (param $q i32) (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $w3 i32)
    (param $oh i32) (param $ow i32) (param $xRow i32) (param $xCol i32) (param $dyPix i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d0 v128)
    (local $r i32) (local $c i32) (local $p i32)
    (local.set $a0 (v128.load align=4 (local.get $w0)))
    (local.set $a1 (v128.load align=4 (local.get $w1)))
    (local.set $a2 (v128.load align=4 (local.get $w2)))
    (local.set $a3 (v128.load align=4 (local.get $w3)))
    (local.set $r (local.get $oh))
    (loop $rows
      (local.set $p (local.get $x))
      (local.set $c (local.get $ow))
      (loop $cols
        (local.set $d0 (v128.load align=4 (local.get $q)))
        (local.set $a0 (f32x4.add (local.get $a0)
          (f32x4.mul (v128.load32_splat (i32.add (local.get $p) (local.get $o0))) (local.get $d0))))
        (local.set $a1 (f32x4.add (local.get $a1)
          (f32x4.mul (v128.load32_splat (i32.add (local.get $p) (local.get $o1))) (local.get $d0))))
        (local.set $a2 (f32x4.add (local.get $a2)
          (f32x4.mul (v128.load32_splat (i32.add (local.get $p) (local.get $o2))) (local.get $d0))))
        (local.set $a3 (f32x4.add (local.get $a3)
          (f32x4.mul (v128.load32_splat (i32.add (local.get $p) (local.get $o3))) (local.get $d0))))
        (local.set $p (i32.add (local.get $p) (local.get $xCol)))
        (local.set $q (i32.add (local.get $q) (local.get $dyPix)))
        (local.set $c (i32.sub (local.get $c) (i32.const 1)))
        (br_if $cols (local.get $c)))
      (local.set $x (i32.add (local.get $x) (local.get $xRow)))
      (local.set $r (i32.sub (local.get $r) (i32.const 1)))
      (br_if $rows (local.get $r)))
    (v128.store align=4 (local.get $w0) (local.get $a0))
    (v128.store align=4 (local.get $w1) (local.get $a1))
    (v128.store align=4 (local.get $w2) (local.get $a2))
    (v128.store align=4 (local.get $w3) (local.get $a3)))

  ;; 4 rows x 1 column, scalar float32 (the co % 4 last columns)
  (func $block1
    (param $x i32) (param $q i32) (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $w3 i32)
    (param $oh i32) (param $ow i32) (param $xRow i32) (param $xCol i32) (param $dyPix i32)
    (local $a0 f32) (local $a1 f32) (local $a2 f32) (local $a3 f32) (local $d f32)
    (local $r i32) (local $c i32) (local $p i32)
    (local.set $a0 (f32.load (local.get $w0)))
    (local.set $a1 (f32.load (local.get $w1)))
    (local.set $a2 (f32.load (local.get $w2)))
    (local.set $a3 (f32.load (local.get $w3)))
    (local.set $r (local.get $oh))
    (loop $rows
      (local.set $p (local.get $x))
      (local.set $c (local.get $ow))
      (loop $cols
        (local.set $d (f32.load (local.get $q)))
        (local.set $a0 (f32.add (local.get $a0)
          (f32.mul (f32.load (i32.add (local.get $p) (local.get $o0))) (local.get $d))))
        (local.set $a1 (f32.add (local.get $a1)
          (f32.mul (f32.load (i32.add (local.get $p) (local.get $o1))) (local.get $d))))
        (local.set $a2 (f32.add (local.get $a2)
          (f32.mul (f32.load (i32.add (local.get $p) (local.get $o2))) (local.get $d))))
        (local.set $a3 (f32.add (local.get $a3)
          (f32.mul (f32.load (i32.add (local.get $p) (local.get $o3))) (local.get $d))))
        (local.set $p (i32.add (local.get $p) (local.get $xCol)))
        (local.set $q (i32.add (local.get $q) (local.get $dyPix)))
        (local.set $c (i32.sub (local.get $c) (i32.const 1)))
        (br_if $cols (local.get $c)))
      (local.set $x (i32.add (local.get $x) (local.get $xRow)))
      (local.set $r (i32.sub (local.get $r) (i32.const 1)))
      (br_if $rows (local.get $r)))
    (f32.store (local.get $w0) (local.get $a0))
    (f32.store (local.get $w1) (local.get $a1))
    (f32.store (local.get $w2) (local.get $a2))
    (f32.store (local.get $w3) (local.get $a3)))

  (func (export "filterGrad")
    (param $x i32) (param $dy i32) (param $dw i32) (param $offs i32) (param $spare i32)
    (param $batch i32) (param $oh i32) (param $ow i32)
    (param $xImage i32) (param $xRow i32) (param $xCol i32) (param $k i32) (param $cout i32)
    (param $bandRows i32)
    (local $dyPix i32) (local $dyImage i32) (local $n i32) (local $kb i32) (local $cb i32)
    (local $oh0 i32) (local $rows i32) (local $xb i32) (local $dyb i32)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (call $zero (local.get $dw) (i32.mul (local.get $k) (local.get $cout)))
    (if (i32.or (i32.eqz (i32.mul (local.get $oh) (local.get $ow)))
          (i32.eqz (i32.mul (local.get $k) (local.get $cout))))
      (then (return)))
    (local.set $dyPix (i32.shl (local.get $cout) (i32.const 2)))
    (local.set $dyImage
      (i32.mul (i32.mul (local.get $oh) (local.get $ow)) (local.get $dyPix)))
    (local.set $n (local.get $batch))
    (block $images_done
      (loop $images
        (br_if $images_done (i32.eqz (local.get $n)))
        (local.set $oh0 (i32.const 0))
        (loop $bands
          ;; output rows oh0 .. oh0 + rows - 1 of image n
          (local.set $rows (i32.sub (local.get $oh) (local.get $oh0)))
          (if (i32.gt_u (local.get $rows) (local.get $bandRows))
            (then (local.set $rows (local.get $bandRows))))
          (local.set $xb (i32.add (local.get $x) (i32.mul (local.get $oh0) (local.get $xRow))))
          (local.set $dyb (i32.add (local.get $dy)
            (i32.mul (i32.mul (local.get $oh0) (local.get $ow)) (local.get $dyPix))))
          (local.set $kb (i32.const 0))
          (loop $row_blocks
            ;; rows kb .. kb + 3; missing ones (past k) read offset 0 and write to $spare
            (if (i32.lt_u (i32.add (local.get $kb) (i32.const 0)) (local.get $k))
              (then
                (local.set $o0
                  (i32.load offset=0 (i32.add (local.get $offs) (i32.shl (local.get $kb) (i32.const 2)))))
                (local.set $w0 (i32.add (local.get $dw)
                  (i32.mul (i32.add (local.get $kb) (i32.const 0)) (local.get $dyPix)))))
              (else (local.set $o0 (i32.const 0)) (local.set $w0 (local.get $spare))))
            (if (i32.lt_u (i32.add (local.get $kb) (i32.const 1)) (local.get $k))
              (then
                (local.set $o1
                  (i32.load offset=4 (i32.add (local.get $offs) (i32.shl (local.get $kb) (i32.const 2)))))
                (local.set $w1 (i32.add (local.get $dw)
                  (i32.mul (i32.add (local.get $kb) (i32.const 1)) (local.get $dyPix)))))
              (else (local.set $o1 (i32.const 0)) (local.set $w1 (local.get $spare))))
            (if (i32.lt_u (i32.add (local.get $kb) (i32.const 2)) (local.get $k))
              (then
                (local.set $o2
                  (i32.load offset=8 (i32.add (local.get $offs) (i32.shl (local.get $kb) (i32.const 2)))))
                (local.set $w2 (i32.add (local.get $dw)
                  (i32.mul (i32.add (local.get $kb) (i32.const 2)) (local.get $dyPix)))))
              (else (local.set $o2 (i32.const 0)) (local.set $w2 (local.get $spare))))
            (if (i32.lt_u (i32.add (local.get $kb) (i32.const 3)) (local.get $k))
              (then
                (local.set $o3
                  (i32.load offset=12 (i32.add (local.get $offs) (i32.shl (local.get $kb) (i32.const 2)))))
                (local.set $w3 (i32.add (local.get $dw)
                  (i32.mul (i32.add (local.get $kb) (i32.const 3)) (local.get $dyPix)))))
              (else (local.set $o3 (i32.const 0)) (local.set $w3 (local.get $spare))))
            (local.set $cb (i32.const 0))
            (block $b8_done
              (loop $b8
                (br_if $b8_done (i32.gt_u (i32.add (local.get $cb) (i32.const 32)) (local.get $dyPix)))
                (call $block8 (local.get $xb) (i32.add (local.get $dyb) (local.get $cb))
                  (local.get $o0) (local.get $o1) (local.get $o2) (local.get $o3)
                  (i32.add (local.get $w0) (local.get $cb)) (i32.add (local.get $w1) (local.get $cb))
                  (i32.add (local.get $w2) (local.get $cb)) (i32.add (local.get $w3) (local.get $cb))
                  (local.get $rows) (local.get $ow) (local.get $xRow) (local.get $xCol) (local.get $dyPix))
                (local.set $cb (i32.add (local.get $cb) (i32.const 32)))
                (br $b8)))
            (if (i32.le_u (i32.add (local.get $cb) (i32.const 16)) (local.get $dyPix))
              (then
                (call $block4 (local.get $xb) (i32.add (local.get $dyb) (local.get $cb))
                  (local.get $o0) (local.get $o1) (local.get $o2) (local.get $o3)
                  (i32.add (local.get $w0) (local.get $cb)) (i32.add (local.get $w1) (local.get $cb))
                  (i32.add (local.get $w2) (local.get $cb)) (i32.add (local.get $w3) (local.get $cb))
                  (local.get $rows) (local.get $ow) (local.get $xRow) (local.get $xCol) (local.get $dyPix))
                (local.set $cb (i32.add (local.get $cb) (i32.const 16)))))
            (block $b1_done
              (loop $b1
                (br_if $b1_done (i32.ge_u (local.get $cb) (local.get $dyPix)))
                (call $block1 (local.get $xb) (i32.add (local.get $dyb) (local.get $cb))
                  (local.get $o0) (local.get $o1) (local.get $o2) (local.get $o3)
                  (i32.add (local.get $w0) (local.get $cb)) (i32.add (local.get $w1) (local.get $cb))
                  (i32.add (local.get $w2) (local.get $cb)) (i32.add (local.get $w3) (local.get $cb))
                  (local.get $rows) (local.get $ow) (local.get $xRow) (local.get $xCol) (local.get $dyPix))
                (local.set $cb (i32.add (local.get $cb) (i32.const 4)))
                (br $b1)))
            (local.set $kb (i32.add (local.get $kb) (i32.const 4)))
            (br_if $row_blocks (i32.lt_u (local.get $kb) (local.get $k))))
          (local.set $oh0 (i32.add (local.get $oh0) (local.get $bandRows)))
          (br_if $bands (i32.lt_u (local.get $oh0) (local.get $oh))))
        (local.set $x (i32.add (local.get $x) (local.get $xImage)))
        (local.set $dy (i32.add (local.get $dy) (local.get $dyImage)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $images))))
)
