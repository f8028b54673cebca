;; Per-channel mean and biased variance (tf.moments over every axis but the last) for
;; @wider/averaging's BatchNorm re-estimation on the tfjs wasm backend, and per-column sums
;; (`Sum` over leading axes: the bias gradients of a training step).
;;
;; The module imports the backend's own linear memory (env.memory). `x` points at `rows * c`
;; float32 values laid out [rows, c] (channels last); `acc` at scratch room for 2 * c float64
;; (c for `columnSums`); `mean`, `var` and `out` at c float32 each. `moments` makes two passes over
;; x, as tf.moments, but every lane works in float64: pass 1 ($sums, shared with `columnSums`)
;; sums each channel, mean = sum / rows; pass 2 sums (x - mean)^2 with the float64 mean, var =
;; that sum / rows; both are rounded to float32 once, at the end. `columnSums` is pass 1 alone,
;; each float64 sum rounded to float32 into `out`. Per row, a 4-lane loop (each float32x4 widened
;; to two float64x2) runs c >> 2 times, then a scalar loop c & 3 times; rows are added in order,
;; so the results equal a plain float64 loop bit for bit.
;;
;; Assemble with `pnpm --filter @wider/backend build:wasm` (wabt); the bytes are committed in
;; src/momentsWasm.ts and a test checks that they match this source.
(module
  (import "env" "memory" (memory 0))

  ;; Pass 1: acc[j] = the float64 sum of x[r * c + j] over r = 0 .. rows - 1, in row order.
  (func $sums (param $x i32) (param $rows i32) (param $c i32) (param $acc i32)
    (local $p i32) (local $a i32) (local $r i32) (local $j i32) (local $c4 i32) (local $v v128)
    (local.set $c4 (i32.shr_u (local.get $c) (i32.const 2)))

    ;; zero the c float64 accumulators
    (local.set $a (local.get $acc))
    (local.set $j (local.get $c))
    (block $zero_done
      (loop $zero
        (br_if $zero_done (i32.eqz (local.get $j)))
        (f64.store (local.get $a) (f64.const 0))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $j (i32.sub (local.get $j) (i32.const 1)))
        (br $zero)))

    ;; per-channel sums, row by row
    (local.set $p (local.get $x))
    (local.set $r (local.get $rows))
    (block $rows1_done
      (loop $rows1
        (br_if $rows1_done (i32.eqz (local.get $r)))
        (local.set $a (local.get $acc))
        (local.set $j (local.get $c4))
        (block $simd1_done
          (loop $simd1
            (br_if $simd1_done (i32.eqz (local.get $j)))
            (local.set $v (v128.load align=4 (local.get $p)))
            (v128.store align=8 (local.get $a)
              (f64x2.add (v128.load align=8 (local.get $a)) (f64x2.promote_low_f32x4 (local.get $v))))
            (v128.store offset=16 align=8 (local.get $a)
              (f64x2.add (v128.load offset=16 align=8 (local.get $a))
                (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                    (local.get $v) (local.get $v)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $a (i32.add (local.get $a) (i32.const 32)))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br $simd1)))
        (local.set $j (i32.and (local.get $c) (i32.const 3)))
        (block $tail1_done
          (loop $tail1
            (br_if $tail1_done (i32.eqz (local.get $j)))
            (f64.store (local.get $a)
              (f64.add (f64.load (local.get $a)) (f64.promote_f32 (f32.load (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $a (i32.add (local.get $a) (i32.const 8)))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br $tail1)))
        (local.set $r (i32.sub (local.get $r) (i32.const 1)))
        (br $rows1))))

  (func (export "columnSums")
    (param $x i32) (param $rows i32) (param $c i32) (param $acc i32) (param $out i32)
    (local $a i32) (local $b i32) (local $j i32)
    (call $sums (local.get $x) (local.get $rows) (local.get $c) (local.get $acc))
    ;; each float64 sum rounded to float32 once
    (local.set $a (local.get $acc))
    (local.set $b (local.get $out))
    (local.set $j (local.get $c))
    (block $out_done
      (loop $outs
        (br_if $out_done (i32.eqz (local.get $j)))
        (f32.store (local.get $b) (f32.demote_f64 (f64.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $j (i32.sub (local.get $j) (i32.const 1)))
        (br $outs))))

  (func (export "moments")
    (param $x i32) (param $rows i32) (param $c i32) (param $acc i32) (param $mean i32)
    (param $var i32)
    (local $p i32) (local $a i32) (local $b i32) (local $r i32) (local $j i32) (local $c4 i32)
    (local $sq i32) (local $v v128) (local $count f64) (local $d v128) (local $e f64)
    (local.set $c4 (i32.shr_u (local.get $c) (i32.const 2)))
    ;; $sq: byte offset of the squared-deviation sums (after the c float64 sums / means).
    (local.set $sq (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))))
    (local.set $count (f64.convert_i32_u (local.get $rows)))

    ;; zero the c float64 squared-deviation accumulators
    (local.set $a (local.get $sq))
    (local.set $j (local.get $c))
    (block $zero_done
      (loop $zero
        (br_if $zero_done (i32.eqz (local.get $j)))
        (f64.store (local.get $a) (f64.const 0))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $j (i32.sub (local.get $j) (i32.const 1)))
        (br $zero)))

    ;; pass 1: per-channel sums
    (call $sums (local.get $x) (local.get $rows) (local.get $c) (local.get $acc))

    ;; means: sum / rows in float64 (kept for pass 2), rounded to float32 into $mean
    (local.set $a (local.get $acc))
    (local.set $b (local.get $mean))
    (local.set $j (local.get $c))
    (block $means_done
      (loop $means
        (br_if $means_done (i32.eqz (local.get $j)))
        (local.set $e (f64.div (f64.load (local.get $a)) (local.get $count)))
        (f64.store (local.get $a) (local.get $e))
        (f32.store (local.get $b) (f32.demote_f64 (local.get $e)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $j (i32.sub (local.get $j) (i32.const 1)))
        (br $means)))

    ;; pass 2: per-channel sums of (x - mean)^2
    (local.set $p (local.get $x))
    (local.set $r (local.get $rows))
    (block $rows2_done
      (loop $rows2
        (br_if $rows2_done (i32.eqz (local.get $r)))
        (local.set $a (local.get $acc))
        (local.set $b (local.get $sq))
        (local.set $j (local.get $c4))
        (block $simd2_done
          (loop $simd2
            (br_if $simd2_done (i32.eqz (local.get $j)))
            (local.set $v (v128.load align=4 (local.get $p)))
            (local.set $d
              (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (v128.load align=8 (local.get $a))))
            (v128.store align=8 (local.get $b)
              (f64x2.add (v128.load align=8 (local.get $b)) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $d
              (f64x2.sub
                (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                    (local.get $v) (local.get $v)))
                (v128.load offset=16 align=8 (local.get $a))))
            (v128.store offset=16 align=8 (local.get $b)
              (f64x2.add (v128.load offset=16 align=8 (local.get $b))
                (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $a (i32.add (local.get $a) (i32.const 32)))
            (local.set $b (i32.add (local.get $b) (i32.const 32)))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br $simd2)))
        (local.set $j (i32.and (local.get $c) (i32.const 3)))
        (block $tail2_done
          (loop $tail2
            (br_if $tail2_done (i32.eqz (local.get $j)))
            (local.set $e
              (f64.sub (f64.promote_f32 (f32.load (local.get $p))) (f64.load (local.get $a))))
            (f64.store (local.get $b)
              (f64.add (f64.load (local.get $b)) (f64.mul (local.get $e) (local.get $e))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $a (i32.add (local.get $a) (i32.const 8)))
            (local.set $b (i32.add (local.get $b) (i32.const 8)))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br $tail2)))
        (local.set $r (i32.sub (local.get $r) (i32.const 1)))
        (br $rows2)))

    ;; variances: squared-deviation sum / rows, rounded to float32 into $var
    (local.set $a (local.get $sq))
    (local.set $b (local.get $var))
    (local.set $j (local.get $c))
    (block $vars_done
      (loop $vars
        (br_if $vars_done (i32.eqz (local.get $j)))
        (f32.store (local.get $b) (f32.demote_f64 (f64.div (f64.load (local.get $a)) (local.get $count))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $j (i32.sub (local.get $j) (i32.const 1)))
        (br $vars))))
)
