;; One-pass running-mean updates for @wider/averaging on the tfjs wasm backend.
;;
;; The module imports the backend's own linear memory (env.memory), so its functions read and
;; write tensors where they are on the tfjs heap: pointers are byte offsets of float32 buffers,
;; `len` counts elements. Each function runs a 4-lane SIMD loop len >> 2 times, then a scalar
;; loop len & 3 times (counting down, so no end pointer can wrap at the top of a 4 GiB memory).
;; Every lane rounds to float32 after each operation, exactly as the
;; tensor rules it replaces (three or more elementwise tfjs kernels) do.
;;
;; Assemble with `pnpm --filter @wider/backend build:wasm` (wabt); the bytes are committed in
;; src/runningMeanWasm.ts and a test checks that they match this source.
(module
  (import "env" "memory" (memory 0))

  ;; SWA (PyTorch AveragedModel default avg_fn): out = mean + (w - mean) / count
  (func (export "swa")
    (param $mean i32) (param $w i32) (param $out i32) (param $len i32) (param $count f32)
    (local $k i32) (local $countv v128) (local $m v128)
    (local.set $countv (f32x4.splat (local.get $count)))
    (local.set $k (i32.shr_u (local.get $len) (i32.const 2)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.eqz (local.get $k)))
        (local.set $m (v128.load (local.get $mean)))
        (v128.store (local.get $out)
          (f32x4.add (local.get $m)
            (f32x4.div (f32x4.sub (v128.load (local.get $w)) (local.get $m)) (local.get $countv))))
        (local.set $mean (i32.add (local.get $mean) (i32.const 16)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $simd)))
    (local.set $k (i32.and (local.get $len) (i32.const 3)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.eqz (local.get $k)))
        (f32.store (local.get $out)
          (f32.add (f32.load (local.get $mean))
            (f32.div (f32.sub (f32.load (local.get $w)) (f32.load (local.get $mean)))
              (local.get $count))))
        (local.set $mean (i32.add (local.get $mean) (i32.const 4)))
        (local.set $w (i32.add (local.get $w) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $tail))))

  ;; EMA (PyTorch EMA avg_fn): out = decay * mean + complement * w, complement = 1 - decay
  (func (export "ema")
    (param $mean i32) (param $w i32) (param $out i32) (param $len i32)
    (param $decay f32) (param $complement f32)
    (local $k i32) (local $decayv v128) (local $complementv v128)
    (local.set $decayv (f32x4.splat (local.get $decay)))
    (local.set $complementv (f32x4.splat (local.get $complement)))
    (local.set $k (i32.shr_u (local.get $len) (i32.const 2)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.eqz (local.get $k)))
        (v128.store (local.get $out)
          (f32x4.add
            (f32x4.mul (v128.load (local.get $mean)) (local.get $decayv))
            (f32x4.mul (v128.load (local.get $w)) (local.get $complementv))))
        (local.set $mean (i32.add (local.get $mean) (i32.const 16)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $simd)))
    (local.set $k (i32.and (local.get $len) (i32.const 3)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.eqz (local.get $k)))
        (f32.store (local.get $out)
          (f32.add
            (f32.mul (f32.load (local.get $mean)) (local.get $decay))
            (f32.mul (f32.load (local.get $w)) (local.get $complement))))
        (local.set $mean (i32.add (local.get $mean) (i32.const 4)))
        (local.set $w (i32.add (local.get $w) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $tail))))
)
