;; A float32 GEMM for the tfjs wasm backend that reads both operands where they lie (no packing):
;;   c[i, j] = sum over l < k of A(i, l) * B(l, j),   0 <= i < m, 0 <= j < n
;; with A(i, l) at byte a + i * aRow + l * aCol (so A [m, k] row-major is aRow = 4k, aCol = 4, and
;; its transpose, stored [k, m], aRow = 4, aCol = 4m) and B(l, j) at byte b + l * bRow + 4j (the
;; columns of a row of B are contiguous: B [k, n] row-major, bRow = 4n). c is [m, n] row-major,
;; contiguous. A product with a transposed B (stored [n, k]) goes through `dotNT` below instead.
;;
;; Register blocking: 4 rows by 8 columns (two f32x4) = 8 float32x4 accumulators held in locals
;; over a block of kc steps of l; per step, the 8 values of a row of B (two loads) and 4 values of
;; A (each one v128.load32_splat), 8 multiplies and 8 adds (no FMA in WebAssembly SIMD) - the
;; blocking of wasm/convFilterGrad.wat. Where A is transposed (aRow = 4) and the 4 rows are all
;; there, `block8t` reads them at immediate offsets 0-12 from one pointer (3-4 % faster on the
;; MLP's weight gradients); unrolling steps of l for an untransposed A (4 steps with 4 row
;; pointers and immediate offsets, or 2 steps sharing the row addresses) was 1.1-1.2x slower than
;; `block8` (V8's code for the longer loop bodies; presumably register spills) and is not used. Columns: blocks of 8, then one of 4, then single columns
;; (n % 4) in scalar float32. Rows: blocks of 4; the 1-3 missing rows of the last block read row 0
;; of the block and write to `spare` (n floats of scratch).
;; Cache blocking: for each block of kc steps of l, for each group of mc rows (mc a multiple of
;; 4), for each column block, for each row block: the mc x kc block of A (sized by the caller to
;; stay in L2) is read once per column block, the kc x 8 panel of B (in L1) once per row block.
;; The accumulators start at zero in the first block of l (c is only written there) and are
;; loaded from and stored to c around each later one. Every sum is a float32 sum in order of l.
;;
;; `dotNT` computes c[i, j] = sum over l < k of a[i, l] * b[j, l] for A [m, k] and B [n, k], both
;; row-major with rows aRow and bRow bytes apart (A Bᵀ: both operands contiguous along l): 2 rows of
;; A by 4 rows of B = 8 float32x4 partial sums over l in steps of 4 (2 + 4 loads, 8 multiplies, 8
;; adds per step), each reduced across its 4 lanes at the end, then the k % 4 last terms in scalar
;; float32; missing rows read row 0 and write to `spare` (4 floats); c row-major, n columns. Every
;; sum is thus 4 float32 partial sums (l = 4t + lane) added pairwise, plus the tail in order.
;; Unrolling 2 of its 4-lane steps (immediate offsets 0 and 16) was 1.1x slower, as in `gemm`.
;;
;; Pointers and strides are byte offsets. Nothing but c and spare is written.
;;
;; Assemble with `pnpm --filter @wider/backend build:wasm` (wabt); the bytes are committed in
;; src/matMulWasm.ts and a test checks that they match this source.
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

  ;; 4 rows x 8 columns over $kc steps: A's rows at $p + $o0..$o3 (advancing by $aCol), B's row
  ;; at $q (advancing by $bRow), c's rows at $c0..$c3 (this block's 8 columns of each)
  (func $block8
    (param $p i32) (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (param $aCol i32) (param $q i32) (param $bRow i32)
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32) (param $kc i32)
    (param $fresh i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (if (i32.eqz (local.get $fresh))
      (then
        (local.set $a00 (v128.load align=4 (local.get $c0)))
        (local.set $a01 (v128.load offset=16 align=4 (local.get $c0)))
        (local.set $a10 (v128.load align=4 (local.get $c1)))
        (local.set $a11 (v128.load offset=16 align=4 (local.get $c1)))
        (local.set $a20 (v128.load align=4 (local.get $c2)))
        (local.set $a21 (v128.load offset=16 align=4 (local.get $c2)))
        (local.set $a30 (v128.load align=4 (local.get $c3)))
        (local.set $a31 (v128.load offset=16 align=4 (local.get $c3)))))
    (loop $steps
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
      (local.set $p (i32.add (local.get $p) (local.get $aCol)))
      (local.set $q (i32.add (local.get $q) (local.get $bRow)))
      (local.set $kc (i32.sub (local.get $kc) (i32.const 1)))
      (br_if $steps (local.get $kc)))
    (v128.store align=4 (local.get $c0) (local.get $a00))
    (v128.store offset=16 align=4 (local.get $c0) (local.get $a01))
    (v128.store align=4 (local.get $c1) (local.get $a10))
    (v128.store offset=16 align=4 (local.get $c1) (local.get $a11))
    (v128.store align=4 (local.get $c2) (local.get $a20))
    (v128.store offset=16 align=4 (local.get $c2) (local.get $a21))
    (v128.store align=4 (local.get $c3) (local.get $a30))
    (v128.store offset=16 align=4 (local.get $c3) (local.get $a31)))

  ;; 4 rows x 8 columns of Aᵀ B (aRow = 4, all 4 rows present): the 4 values of A at $p + 0..12
  (func $block8t
    (param $p i32) (param $aCol i32) (param $q i32) (param $bRow i32)
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32) (param $kc i32)
    (param $fresh i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (if (i32.eqz (local.get $fresh))
      (then
        (local.set $a00 (v128.load align=4 (local.get $c0)))
        (local.set $a01 (v128.load offset=16 align=4 (local.get $c0)))
        (local.set $a10 (v128.load align=4 (local.get $c1)))
        (local.set $a11 (v128.load offset=16 align=4 (local.get $c1)))
        (local.set $a20 (v128.load align=4 (local.get $c2)))
        (local.set $a21 (v128.load offset=16 align=4 (local.get $c2)))
        (local.set $a30 (v128.load align=4 (local.get $c3)))
        (local.set $a31 (v128.load offset=16 align=4 (local.get $c3)))))
    (loop $steps
      (local.set $d0 (v128.load align=4 (local.get $q)))
      (local.set $d1 (v128.load offset=16 align=4 (local.get $q)))
      (local.set $s (v128.load32_splat (local.get $p)))
      (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
      (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
      (local.set $s (v128.load32_splat offset=4 (local.get $p)))
      (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
      (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $d1))))
      (local.set $s (v128.load32_splat offset=8 (local.get $p)))
      (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
      (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $d1))))
      (local.set $s (v128.load32_splat offset=12 (local.get $p)))
      (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
      (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $d1))))
      (local.set $p (i32.add (local.get $p) (local.get $aCol)))
      (local.set $q (i32.add (local.get $q) (local.get $bRow)))
      (local.set $kc (i32.sub (local.get $kc) (i32.const 1)))
      (br_if $steps (local.get $kc)))
    (v128.store align=4 (local.get $c0) (local.get $a00))
    (v128.store offset=16 align=4 (local.get $c0) (local.get $a01))
    (v128.store align=4 (local.get $c1) (local.get $a10))
    (v128.store offset=16 align=4 (local.get $c1) (local.get $a11))
    (v128.store align=4 (local.get $c2) (local.get $a20))
    (v128.store offset=16 align=4 (local.get $c2) (local.get $a21))
    (v128.store align=4 (local.get $c3) (local.get $a30))
    (v128.store offset=16 align=4 (local.get $c3) (local.get $a31)))

  ;; 4 rows x 4 columns (one f32x4 per row)
  (func $block4
    (param $p i32) (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (param $aCol i32) (param $q i32) (param $bRow i32)
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32) (param $kc i32)
    (param $fresh i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d0 v128)
    (if (i32.eqz (local.get $fresh))
      (then
        (local.set $a0 (v128.load align=4 (local.get $c0)))
        (local.set $a1 (v128.load align=4 (local.get $c1)))
        (local.set $a2 (v128.load align=4 (local.get $c2)))
        (local.set $a3 (v128.load align=4 (local.get $c3)))))
    (loop $steps
      (local.set $d0 (v128.load align=4 (local.get $q)))
      (local.set $a0 (f32x4.add (local.get $a0)
        (f32x4.mul (v128.load32_splat (i32.add (local.get $p) (local.get $o0))) (local.get $d0))))
      (local.set $a1 (f32x4.add (local.get $a1)
        (f32x4.mul (v128.load32_splat (i32.add (local.get $p) (local.get $o1))) (local.get $d0))))
      (local.set $a2 (f32x4.add (local.get $a2)
        (f32x4.mul (v128.load32_splat (i32.add (local.get $p) (local.get $o2))) (local.get $d0))))
      (local.set $a3 (f32x4.add (local.get $a3)
        (f32x4.mul (v128.load32_splat (i32.add (local.get $p) (local.get $o3))) (local.get $d0))))
      (local.set $p (i32.add (local.get $p) (local.get $aCol)))
      (local.set $q (i32.add (local.get $q) (local.get $bRow)))
      (local.set $kc (i32.sub (local.get $kc) (i32.const 1)))
      (br_if $steps (local.get $kc)))
    (v128.store align=4 (local.get $c0) (local.get $a0))
    (v128.store align=4 (local.get $c1) (local.get $a1))
    (v128.store align=4 (local.get $c2) (local.get $a2))
    (v128.store align=4 (local.get $c3) (local.get $a3)))

  ;; 4 rows x 1 column, scalar float32 (the n % 4 last columns)
  (func $block1
    (param $p i32) (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (param $aCol i32) (param $q i32) (param $bRow i32)
    (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32) (param $kc i32)
    (param $fresh i32)
    (local $a0 f32) (local $a1 f32) (local $a2 f32) (local $a3 f32) (local $d f32)
    (if (i32.eqz (local.get $fresh))
      (then
        (local.set $a0 (f32.load (local.get $c0)))
        (local.set $a1 (f32.load (local.get $c1)))
        (local.set $a2 (f32.load (local.get $c2)))
        (local.set $a3 (f32.load (local.get $c3)))))
    (loop $steps
      (local.set $d (f32.load (local.get $q)))
      (local.set $a0 (f32.add (local.get $a0)
        (f32.mul (f32.load (i32.add (local.get $p) (local.get $o0))) (local.get $d))))
      (local.set $a1 (f32.add (local.get $a1)
        (f32.mul (f32.load (i32.add (local.get $p) (local.get $o1))) (local.get $d))))
      (local.set $a2 (f32.add (local.get $a2)
        (f32.mul (f32.load (i32.add (local.get $p) (local.get $o2))) (local.get $d))))
      (local.set $a3 (f32.add (local.get $a3)
        (f32.mul (f32.load (i32.add (local.get $p) (local.get $o3))) (local.get $d))))
      (local.set $p (i32.add (local.get $p) (local.get $aCol)))
      (local.set $q (i32.add (local.get $q) (local.get $bRow)))
      (local.set $kc (i32.sub (local.get $kc) (i32.const 1)))
      (br_if $steps (local.get $kc)))
    (f32.store (local.get $c0) (local.get $a0))
    (f32.store (local.get $c1) (local.get $a1))
    (f32.store (local.get $c2) (local.get $a2))
    (f32.store (local.get $c3) (local.get $a3)))

  (func (export "gemm")
    (param $a i32) (param $b i32) (param $c i32) (param $spare i32)
    (param $m i32) (param $n i32) (param $k i32)
    (param $aRow i32) (param $aCol i32) (param $bRow i32) (param $kc i32) (param $mc i32)
    (local $nb i32) (local $l0 i32) (local $steps i32) (local $i0 i32) (local $ie i32)
    (local $cb i32) (local $w i32) (local $ib i32) (local $p i32) (local $q i32)
    (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (if (i32.eqz (i32.mul (local.get $m) (local.get $n))) (then (return)))
    (if (i32.eqz (local.get $k))
      (then (call $zero (local.get $c) (i32.mul (local.get $m) (local.get $n))) (return)))
    (if (i32.eqz (local.get $kc)) (then (local.set $kc (local.get $k))))
    ;; mc: a positive multiple of 4
    (local.set $mc (i32.and (i32.add (local.get $mc) (i32.const 3)) (i32.const -4)))
    (if (i32.eqz (local.get $mc)) (then (local.set $mc (i32.const 4))))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $l0 (i32.const 0))
    (loop $kblocks
      (local.set $steps (i32.sub (local.get $k) (local.get $l0)))
      (if (i32.gt_u (local.get $steps) (local.get $kc)) (then (local.set $steps (local.get $kc))))
      (local.set $i0 (i32.const 0))
      (loop $mgroups
        (local.set $ie (i32.add (local.get $i0) (local.get $mc)))
        (if (i32.gt_u (local.get $ie) (local.get $m)) (then (local.set $ie (local.get $m))))
        (local.set $cb (i32.const 0))
        (loop $cols
          ;; this column block's width in bytes: 8, 4 or 1 columns
          (local.set $w (i32.const 4))
          (if (i32.le_u (i32.add (local.get $cb) (i32.const 16)) (local.get $nb))
            (then (local.set $w (i32.const 16))))
          (if (i32.le_u (i32.add (local.get $cb) (i32.const 32)) (local.get $nb))
            (then (local.set $w (i32.const 32))))
          (local.set $q (i32.add (i32.add (local.get $b) (local.get $cb))
            (i32.mul (local.get $l0) (local.get $bRow))))
          (local.set $ib (local.get $i0))
          (loop $rows
            ;; rows ib .. ib + 3; missing ones (past m) read row ib and write to $spare
            (local.set $p (i32.add (i32.add (local.get $a) (i32.mul (local.get $ib) (local.get $aRow)))
              (i32.mul (local.get $l0) (local.get $aCol))))
            (local.set $c0 (i32.add (i32.add (local.get $c) (local.get $cb))
              (i32.mul (local.get $ib) (local.get $nb))))
            (if (i32.lt_u (i32.add (local.get $ib) (i32.const 1)) (local.get $m))
              (then (local.set $o1 (local.get $aRow))
                (local.set $c1 (i32.add (local.get $c0) (local.get $nb))))
              (else (local.set $o1 (i32.const 0))
                (local.set $c1 (i32.add (local.get $spare) (local.get $cb)))))
            (if (i32.lt_u (i32.add (local.get $ib) (i32.const 2)) (local.get $m))
              (then (local.set $o2 (i32.shl (local.get $aRow) (i32.const 1)))
                (local.set $c2 (i32.add (local.get $c1) (local.get $nb))))
              (else (local.set $o2 (i32.const 0))
                (local.set $c2 (i32.add (local.get $spare) (local.get $cb)))))
            (if (i32.lt_u (i32.add (local.get $ib) (i32.const 3)) (local.get $m))
              (then (local.set $o3 (i32.mul (local.get $aRow) (i32.const 3)))
                (local.set $c3 (i32.add (local.get $c2) (local.get $nb))))
              (else (local.set $o3 (i32.const 0))
                (local.set $c3 (i32.add (local.get $spare) (local.get $cb)))))
            (if (i32.eq (local.get $w) (i32.const 32))
              (then
                (if (i32.and (i32.eq (local.get $aRow) (i32.const 4))
                      (i32.eq (local.get $o3) (i32.const 12)))
                  (then
                    (call $block8t (local.get $p) (local.get $aCol) (local.get $q) (local.get $bRow)
                      (local.get $c0) (local.get $c1) (local.get $c2) (local.get $c3)
                      (local.get $steps) (i32.eqz (local.get $l0))))
                  (else
                    (call $block8 (local.get $p) (i32.const 0) (local.get $o1) (local.get $o2)
                      (local.get $o3) (local.get $aCol) (local.get $q) (local.get $bRow)
                      (local.get $c0) (local.get $c1) (local.get $c2) (local.get $c3)
                      (local.get $steps) (i32.eqz (local.get $l0))))))
              (else
                (if (i32.eq (local.get $w) (i32.const 16))
                  (then
                    (call $block4 (local.get $p) (i32.const 0) (local.get $o1) (local.get $o2)
                      (local.get $o3) (local.get $aCol) (local.get $q) (local.get $bRow)
                      (local.get $c0) (local.get $c1) (local.get $c2) (local.get $c3)
                      (local.get $steps) (i32.eqz (local.get $l0))))
                  (else
                    (call $block1 (local.get $p) (i32.const 0) (local.get $o1) (local.get $o2)
                      (local.get $o3) (local.get $aCol) (local.get $q) (local.get $bRow)
                      (local.get $c0) (local.get $c1) (local.get $c2) (local.get $c3)
                      (local.get $steps) (i32.eqz (local.get $l0)))))))
            (local.set $ib (i32.add (local.get $ib) (i32.const 4)))
            (br_if $rows (i32.lt_u (local.get $ib) (local.get $ie))))
          (local.set $cb (i32.add (local.get $cb) (local.get $w)))
          (br_if $cols (i32.lt_u (local.get $cb) (local.get $nb))))
        (local.set $i0 (local.get $ie))
        (br_if $mgroups (i32.lt_u (local.get $i0) (local.get $m))))
      (local.set $l0 (i32.add (local.get $l0) (local.get $kc)))
      (br_if $kblocks (i32.lt_u (local.get $l0) (local.get $k)))))

  ;; horizontal sum of the 4 lanes: (x0 + x2) + (x1 + x3)
  (func $hsum (param $x v128) (result f32)
    (local $y v128)
    (local.set $y (f32x4.add (local.get $x)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))))
    (f32.add (f32x4.extract_lane 0 (local.get $y)) (f32x4.extract_lane 1 (local.get $y))))

  ;; 2 rows of A ($p0, $p1) x 4 rows of B ($q0..$q3) over k, written to $c0 (row 0, 4 columns) and
  ;; $c1 (row 1)
  (func $dot24
    (param $p0 i32) (param $p1 i32) (param $q0 i32) (param $q1 i32) (param $q2 i32) (param $q3 i32)
    (param $k i32) (param $c0 i32) (param $c1 i32)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128)
    (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (local $x0 v128) (local $x1 v128) (local $y v128) (local $l i32)
    (local $t00 f32) (local $t01 f32) (local $t02 f32) (local $t03 f32)
    (local $t10 f32) (local $t11 f32) (local $t12 f32) (local $t13 f32) (local $u f32) (local $v f32)
    (local.set $l (i32.shr_u (local.get $k) (i32.const 2)))
    (if (local.get $l)
      (then
        (loop $steps
          (local.set $x0 (v128.load align=4 (local.get $p0)))
          (local.set $x1 (v128.load align=4 (local.get $p1)))
          (local.set $y (v128.load align=4 (local.get $q0)))
          (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x0) (local.get $y))))
          (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x1) (local.get $y))))
          (local.set $y (v128.load align=4 (local.get $q1)))
          (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x0) (local.get $y))))
          (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x1) (local.get $y))))
          (local.set $y (v128.load align=4 (local.get $q2)))
          (local.set $s02 (f32x4.add (local.get $s02) (f32x4.mul (local.get $x0) (local.get $y))))
          (local.set $s12 (f32x4.add (local.get $s12) (f32x4.mul (local.get $x1) (local.get $y))))
          (local.set $y (v128.load align=4 (local.get $q3)))
          (local.set $s03 (f32x4.add (local.get $s03) (f32x4.mul (local.get $x0) (local.get $y))))
          (local.set $s13 (f32x4.add (local.get $s13) (f32x4.mul (local.get $x1) (local.get $y))))
          (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
          (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
          (local.set $q0 (i32.add (local.get $q0) (i32.const 16)))
          (local.set $q1 (i32.add (local.get $q1) (i32.const 16)))
          (local.set $q2 (i32.add (local.get $q2) (i32.const 16)))
          (local.set $q3 (i32.add (local.get $q3) (i32.const 16)))
          (local.set $l (i32.sub (local.get $l) (i32.const 1)))
          (br_if $steps (local.get $l)))))
    (local.set $t00 (call $hsum (local.get $s00)))
    (local.set $t01 (call $hsum (local.get $s01)))
    (local.set $t02 (call $hsum (local.get $s02)))
    (local.set $t03 (call $hsum (local.get $s03)))
    (local.set $t10 (call $hsum (local.get $s10)))
    (local.set $t11 (call $hsum (local.get $s11)))
    (local.set $t12 (call $hsum (local.get $s12)))
    (local.set $t13 (call $hsum (local.get $s13)))
    (local.set $l (i32.and (local.get $k) (i32.const 3)))
    (if (local.get $l)
      (then
        (loop $tail
          (local.set $u (f32.load (local.get $p0)))
          (local.set $v (f32.load (local.get $p1)))
          (local.set $t00 (f32.add (local.get $t00) (f32.mul (local.get $u) (f32.load (local.get $q0)))))
          (local.set $t10 (f32.add (local.get $t10) (f32.mul (local.get $v) (f32.load (local.get $q0)))))
          (local.set $t01 (f32.add (local.get $t01) (f32.mul (local.get $u) (f32.load (local.get $q1)))))
          (local.set $t11 (f32.add (local.get $t11) (f32.mul (local.get $v) (f32.load (local.get $q1)))))
          (local.set $t02 (f32.add (local.get $t02) (f32.mul (local.get $u) (f32.load (local.get $q2)))))
          (local.set $t12 (f32.add (local.get $t12) (f32.mul (local.get $v) (f32.load (local.get $q2)))))
          (local.set $t03 (f32.add (local.get $t03) (f32.mul (local.get $u) (f32.load (local.get $q3)))))
          (local.set $t13 (f32.add (local.get $t13) (f32.mul (local.get $v) (f32.load (local.get $q3)))))
          (local.set $p0 (i32.add (local.get $p0) (i32.const 4)))
          (local.set $p1 (i32.add (local.get $p1) (i32.const 4)))
          (local.set $q0 (i32.add (local.get $q0) (i32.const 4)))
          (local.set $q1 (i32.add (local.get $q1) (i32.const 4)))
          (local.set $q2 (i32.add (local.get $q2) (i32.const 4)))
          (local.set $q3 (i32.add (local.get $q3) (i32.const 4)))
          (local.set $l (i32.sub (local.get $l) (i32.const 1)))
          (br_if $tail (local.get $l)))))
    (f32.store offset=0 (local.get $c0) (local.get $t00))
    (f32.store offset=4 (local.get $c0) (local.get $t01))
    (f32.store offset=8 (local.get $c0) (local.get $t02))
    (f32.store offset=12 (local.get $c0) (local.get $t03))
    (f32.store offset=0 (local.get $c1) (local.get $t10))
    (f32.store offset=4 (local.get $c1) (local.get $t11))
    (f32.store offset=8 (local.get $c1) (local.get $t12))
    (f32.store offset=12 (local.get $c1) (local.get $t13)))

  (func (export "dotNT")
    (param $a i32) (param $b i32) (param $c i32) (param $spare i32)
    (param $m i32) (param $n i32) (param $k i32) (param $aRow i32) (param $bRow i32)
    (param $mc i32)
    (local $nb i32) (local $i0 i32) (local $ie i32) (local $i i32) (local $j i32)
    (local $p1 i32) (local $q1 i32) (local $q2 i32) (local $q3 i32) (local $c0 i32) (local $c1 i32)
    (local $full i32)
    (if (i32.eqz (i32.mul (local.get $m) (local.get $n))) (then (return)))
    ;; mc: a positive multiple of 2
    (local.set $mc (i32.and (i32.add (local.get $mc) (i32.const 1)) (i32.const -2)))
    (if (i32.eqz (local.get $mc)) (then (local.set $mc (i32.const 2))))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i0 (i32.const 0))
    (loop $mgroups
      (local.set $ie (i32.add (local.get $i0) (local.get $mc)))
      (if (i32.gt_u (local.get $ie) (local.get $m)) (then (local.set $ie (local.get $m))))
      (local.set $j (i32.const 0))
      (loop $cols
        ;; rows j .. j + 3 of B; missing ones read row j and go to spare
        (local.set $full (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
        (local.set $q1 (i32.const 0))
        (local.set $q2 (i32.const 0))
        (local.set $q3 (i32.const 0))
        (if (i32.lt_u (i32.add (local.get $j) (i32.const 1)) (local.get $n))
          (then (local.set $q1 (local.get $bRow))))
        (if (i32.lt_u (i32.add (local.get $j) (i32.const 2)) (local.get $n))
          (then (local.set $q2 (i32.shl (local.get $bRow) (i32.const 1)))))
        (if (i32.lt_u (i32.add (local.get $j) (i32.const 3)) (local.get $n))
          (then (local.set $q3 (i32.mul (local.get $bRow) (i32.const 3)))))
        (local.set $i (local.get $i0))
        (loop $rows
          (local.set $p1 (select (local.get $aRow) (i32.const 0)
            (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $m))))
          (if (local.get $full)
            (then
              (local.set $c0 (i32.add (local.get $c)
                (i32.add (i32.mul (local.get $i) (local.get $nb)) (i32.shl (local.get $j) (i32.const 2)))))
              (local.set $c1 (select (i32.add (local.get $c0) (local.get $nb)) (local.get $spare)
                (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $m)))))
            (else
              (local.set $c0 (local.get $spare))
              (local.set $c1 (i32.add (local.get $spare) (i32.const 16)))))
          (call $dot24
            (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $aRow)))
            (i32.add (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $aRow))) (local.get $p1))
            (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $bRow)))
            (i32.add (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $bRow))) (local.get $q1))
            (i32.add (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $bRow))) (local.get $q2))
            (i32.add (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $bRow))) (local.get $q3))
            (local.get $k) (local.get $c0) (local.get $c1))
          (if (i32.eqz (local.get $full))
            (then
              ;; copy the n - j valid columns of the two rows from spare
              (call $copyCols (local.get $spare)
                (i32.add (local.get $c)
                  (i32.add (i32.mul (local.get $i) (local.get $nb)) (i32.shl (local.get $j) (i32.const 2))))
                (i32.sub (local.get $n) (local.get $j)))
              (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $m))
                (then
                  (call $copyCols (i32.add (local.get $spare) (i32.const 16))
                    (i32.add (local.get $c)
                      (i32.add (i32.mul (i32.add (local.get $i) (i32.const 1)) (local.get $nb))
                        (i32.shl (local.get $j) (i32.const 2))))
                    (i32.sub (local.get $n) (local.get $j)))))))
          (local.set $i (i32.add (local.get $i) (i32.const 2)))
          (br_if $rows (i32.lt_u (local.get $i) (local.get $ie))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br_if $cols (i32.lt_u (local.get $j) (local.get $n))))
      (local.set $i0 (local.get $ie))
      (br_if $mgroups (i32.lt_u (local.get $i0) (local.get $m)))))

  ;; copies $count (1-3) floats from $from to $to
  (func $copyCols (param $from i32) (param $to i32) (param $count i32)
    (loop $copy
      (f32.store (local.get $to) (f32.load (local.get $from)))
      (local.set $from (i32.add (local.get $from) (i32.const 4)))
      (local.set $to (i32.add (local.get $to) (i32.const 4)))
      (local.set $count (i32.sub (local.get $count) (i32.const 1)))
      (br_if $copy (local.get $count))))
)
