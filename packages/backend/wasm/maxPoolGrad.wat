;; MaxPoolGrad (2-D, channels last) for the tfjs wasm backend: each output gradient goes to the
;; FIRST maximum of its window in row-major order, as tfjs's cpu backend and TensorFlow do, with
;; the same padding and strides as `backend_util.computePool2DInfo`.
;;
;; The module imports the backend's own linear memory (env.memory). Pointers are byte offsets of
;; float32 arrays: `x` the pooled input [batch, inH, inW, c], `y` the pooled output and `g` its
;; gradient [batch, outH, outW, c], `dx` the result, shaped as `x` (zeroed here, one image at a time). Window
;; (b, yr, yc) covers input rows yr * sH - padT + [0, fH) and columns yc * sW - padL + [0, fW),
;; clipped to the input.
;;
;; `firstEqual` (with `y`): the first position equal to y gets g, none when y is -Infinity (the
;; cpu backend's strict '>' never fires there) or NaN. `firstGreater` (without `y`): the first
;; position strictly greater than all before it, starting from -Infinity, gets g (NaN never is).
;;
;; Channels go 4 lanes at a time (c >> 2 chunks, then c & 3 scalar channels): per window
;; position, a lane mask of "this is the one" selects (v128.bitselect) dx + g over dx, so every
;; lane of dx receives exactly the float32 additions the scalar loop makes, in the same order
;; (windows in (b, yr, yc) order; different channels never share an element): the result equals
;; the JavaScript loop bit for bit.
;;
;; Assemble with `pnpm --filter @wider/backend build:wasm` (wabt); the bytes are committed in
;; src/maxPoolGradWasm.ts and a test checks that they match this source.
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

  (func (export "firstEqual")
    (param $x i32) (param $y i32) (param $g i32) (param $dx i32)
    (param $batch i32) (param $inH i32) (param $inW i32) (param $c i32)
    (param $outH i32) (param $outW i32) (param $sH i32) (param $sW i32)
    (param $fH i32) (param $fW i32) (param $padT i32) (param $padL i32)
    (local $colStride i32) (local $rowStride i32) (local $imageStride i32) (local $c4 i32)
    (local $b i32) (local $yr i32) (local $yc i32) (local $r0 i32) (local $rMin i32)
    (local $rows i32) (local $c0 i32) (local $cMin i32) (local $cols i32) (local $img i32)
    (local $corner i32) (local $o i32) (local $d i32) (local $j i32) (local $q i32) (local $p i32)
    (local $r i32) (local $k i32) (local $t i32)
    (local $m v128) (local $gv v128) (local $rem v128) (local $eq v128) (local $dv v128)
    (local $ms f32)
    (local.set $colStride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rowStride (i32.mul (local.get $inW) (local.get $colStride)))
    (local.set $imageStride (i32.mul (local.get $inH) (local.get $rowStride)))
    (local.set $c4 (i32.shr_u (local.get $c) (i32.const 2)))
    ;; $o: byte offset of window (b, yr, yc) in y and g; $img: of image b in x and dx
    (local.set $o (i32.const 0))
    (local.set $img (i32.const 0))
    (local.set $b (i32.const 0))
    (block $batch_done
      (loop $batch_loop
        (br_if $batch_done (i32.ge_s (local.get $b) (local.get $batch)))
        ;; zero image b of dx just before its windows add to it (it stays in cache)
        (call $zero (i32.add (local.get $dx) (local.get $img))
          (i32.shr_u (local.get $imageStride) (i32.const 2)))
        (local.set $yr (i32.const 0))
        (block $yr_done
          (loop $yr_loop
            (br_if $yr_done (i32.ge_s (local.get $yr) (local.get $outH)))
            (local.set $r0
              (i32.sub (i32.mul (local.get $yr) (local.get $sH)) (local.get $padT)))
            (local.set $rMin
              (select (local.get $r0) (i32.const 0) (i32.gt_s (local.get $r0) (i32.const 0))))
            ;; rows = min(inH, r0 + fH) - rMin
            (local.set $t (i32.add (local.get $r0) (local.get $fH)))
            (local.set $rows
              (i32.sub
                (select (local.get $t) (local.get $inH) (i32.lt_s (local.get $t) (local.get $inH)))
                (local.get $rMin)))
            (local.set $yc (i32.const 0))
            (block $yc_done
              (loop $yc_loop
                (br_if $yc_done (i32.ge_s (local.get $yc) (local.get $outW)))
                (local.set $c0
                  (i32.sub (i32.mul (local.get $yc) (local.get $sW)) (local.get $padL)))
                (local.set $cMin
                  (select (local.get $c0) (i32.const 0) (i32.gt_s (local.get $c0) (i32.const 0))))
                (local.set $t (i32.add (local.get $c0) (local.get $fW)))
                (local.set $cols
                  (i32.sub
                    (select (local.get $t) (local.get $inW) (i32.lt_s (local.get $t) (local.get $inW)))
                    (local.get $cMin)))
                (local.set $corner
                  (i32.add (local.get $img)
                    (i32.add (i32.mul (local.get $rMin) (local.get $rowStride))
                      (i32.mul (local.get $cMin) (local.get $colStride)))))
                (if (i32.and (i32.gt_s (local.get $rows) (i32.const 0))
                      (i32.gt_s (local.get $cols) (i32.const 0)))
                  (then
                    ;; 4 channels at a time
                    (local.set $d (i32.const 0))
                    (local.set $j (local.get $c4))
                    (block $chunks_done
                      (loop $chunks
                        (br_if $chunks_done (i32.eqz (local.get $j)))
                        (local.set $m
                          (v128.load align=4 (i32.add (local.get $y) (i32.add (local.get $o) (local.get $d)))))
                        (local.set $gv
                          (v128.load align=4 (i32.add (local.get $g) (i32.add (local.get $o) (local.get $d)))))
                        ;; lanes still looking for their maximum: not those whose y is -Infinity
                        (local.set $rem
                          (f32x4.ne (local.get $m) (v128.const f32x4 -inf -inf -inf -inf)))
                        (local.set $q (i32.add (local.get $corner) (local.get $d)))
                        (local.set $r (local.get $rows))
                        (block $window_done
                          (loop $window_rows
                            (br_if $window_done (i32.eqz (local.get $r)))
                            (local.set $p (local.get $q))
                            (local.set $k (local.get $cols))
                            (loop $window_cols
                              (local.set $eq
                                (v128.and (local.get $rem)
                                  (f32x4.eq
                                    (v128.load align=4 (i32.add (local.get $x) (local.get $p)))
                                    (local.get $m))))
                              (local.set $dv
                                (v128.load align=4 (i32.add (local.get $dx) (local.get $p))))
                              (v128.store align=4 (i32.add (local.get $dx) (local.get $p))
                                (v128.bitselect
                                  (f32x4.add (local.get $dv) (local.get $gv))
                                  (local.get $dv)
                                  (local.get $eq)))
                              (local.set $rem (v128.andnot (local.get $rem) (local.get $eq)))
                              (local.set $p (i32.add (local.get $p) (local.get $colStride)))
                              (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                              (br_if $window_cols (local.get $k)))
                            (local.set $q (i32.add (local.get $q) (local.get $rowStride)))
                            (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                            (br $window_rows)))
                        (local.set $d (i32.add (local.get $d) (i32.const 16)))
                        (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                        (br $chunks)))
                    ;; the c & 3 remaining channels, one at a time
                    (block $tail_done
                      (loop $tail
                        (br_if $tail_done (i32.ge_u (local.get $d) (local.get $colStride)))
                        (local.set $ms
                          (f32.load (i32.add (local.get $y) (i32.add (local.get $o) (local.get $d)))))
                        (if (f32.ne (local.get $ms) (f32.const -inf))
                          (then
                            (local.set $q (i32.add (local.get $corner) (local.get $d)))
                            (local.set $r (local.get $rows))
                            (block $found
                              (loop $tail_rows
                                (local.set $p (local.get $q))
                                (local.set $k (local.get $cols))
                                (loop $tail_cols
                                  (if (f32.eq (f32.load (i32.add (local.get $x) (local.get $p)))
                                        (local.get $ms))
                                    (then
                                      (f32.store (i32.add (local.get $dx) (local.get $p))
                                        (f32.add
                                          (f32.load (i32.add (local.get $dx) (local.get $p)))
                                          (f32.load
                                            (i32.add (local.get $g)
                                              (i32.add (local.get $o) (local.get $d))))))
                                      (br $found)))
                                  (local.set $p (i32.add (local.get $p) (local.get $colStride)))
                                  (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                                  (br_if $tail_cols (local.get $k)))
                                (local.set $q (i32.add (local.get $q) (local.get $rowStride)))
                                (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                                (br_if $tail_rows (local.get $r))))))
                        (local.set $d (i32.add (local.get $d) (i32.const 4)))
                        (br $tail)))))
                (local.set $o (i32.add (local.get $o) (local.get $colStride)))
                (local.set $yc (i32.add (local.get $yc) (i32.const 1)))
                (br $yc_loop)))
            (local.set $yr (i32.add (local.get $yr) (i32.const 1)))
            (br $yr_loop)))
        (local.set $img (i32.add (local.get $img) (local.get $imageStride)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $batch_loop))))

  (func (export "firstGreater")
    (param $x i32) (param $g i32) (param $dx i32)
    (param $batch i32) (param $inH i32) (param $inW i32) (param $c i32)
    (param $outH i32) (param $outW i32) (param $sH i32) (param $sW i32)
    (param $fH i32) (param $fW i32) (param $padT i32) (param $padL i32)
    (local $colStride i32) (local $rowStride i32) (local $imageStride i32) (local $c4 i32)
    (local $b i32) (local $yr i32) (local $yc i32) (local $r0 i32) (local $rMin i32)
    (local $rows i32) (local $c0 i32) (local $cMin i32) (local $cols i32) (local $img i32)
    (local $corner i32) (local $o i32) (local $d i32) (local $j i32) (local $q i32) (local $p i32)
    (local $r i32) (local $k i32) (local $t i32) (local $i i32) (local $at i32)
    (local $best v128) (local $gv v128) (local $ats v128) (local $v v128) (local $gt v128)
    (local $dv v128) (local $bs f32) (local $vs f32)
    (local.set $colStride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rowStride (i32.mul (local.get $inW) (local.get $colStride)))
    (local.set $imageStride (i32.mul (local.get $inH) (local.get $rowStride)))
    (local.set $c4 (i32.shr_u (local.get $c) (i32.const 2)))
    (local.set $o (i32.const 0))
    (local.set $img (i32.const 0))
    (local.set $b (i32.const 0))
    (block $batch_done
      (loop $batch_loop
        (br_if $batch_done (i32.ge_s (local.get $b) (local.get $batch)))
        ;; zero image b of dx just before its windows add to it (it stays in cache)
        (call $zero (i32.add (local.get $dx) (local.get $img))
          (i32.shr_u (local.get $imageStride) (i32.const 2)))
        (local.set $yr (i32.const 0))
        (block $yr_done
          (loop $yr_loop
            (br_if $yr_done (i32.ge_s (local.get $yr) (local.get $outH)))
            (local.set $r0
              (i32.sub (i32.mul (local.get $yr) (local.get $sH)) (local.get $padT)))
            (local.set $rMin
              (select (local.get $r0) (i32.const 0) (i32.gt_s (local.get $r0) (i32.const 0))))
            (local.set $t (i32.add (local.get $r0) (local.get $fH)))
            (local.set $rows
              (i32.sub
                (select (local.get $t) (local.get $inH) (i32.lt_s (local.get $t) (local.get $inH)))
                (local.get $rMin)))
            (local.set $yc (i32.const 0))
            (block $yc_done
              (loop $yc_loop
                (br_if $yc_done (i32.ge_s (local.get $yc) (local.get $outW)))
                (local.set $c0
                  (i32.sub (i32.mul (local.get $yc) (local.get $sW)) (local.get $padL)))
                (local.set $cMin
                  (select (local.get $c0) (i32.const 0) (i32.gt_s (local.get $c0) (i32.const 0))))
                (local.set $t (i32.add (local.get $c0) (local.get $fW)))
                (local.set $cols
                  (i32.sub
                    (select (local.get $t) (local.get $inW) (i32.lt_s (local.get $t) (local.get $inW)))
                    (local.get $cMin)))
                (local.set $corner
                  (i32.add (local.get $img)
                    (i32.add (i32.mul (local.get $rMin) (local.get $rowStride))
                      (i32.mul (local.get $cMin) (local.get $colStride)))))
                (if (i32.and (i32.gt_s (local.get $rows) (i32.const 0))
                      (i32.gt_s (local.get $cols) (i32.const 0)))
                  (then
                    ;; 4 channels at a time: find each lane's window index $i of its first
                    ;; strict maximum, then add g where the index matches
                    (local.set $d (i32.const 0))
                    (local.set $j (local.get $c4))
                    (block $chunks_done
                      (loop $chunks
                        (br_if $chunks_done (i32.eqz (local.get $j)))
                        (local.set $best (v128.const f32x4 -inf -inf -inf -inf))
                        (local.set $ats (v128.const i32x4 -1 -1 -1 -1))
                        (local.set $i (i32.const 0))
                        (local.set $q (i32.add (local.get $corner) (local.get $d)))
                        (local.set $r (local.get $rows))
                        (loop $search_rows
                          (local.set $p (local.get $q))
                          (local.set $k (local.get $cols))
                          (loop $search_cols
                            (local.set $v
                              (v128.load align=4 (i32.add (local.get $x) (local.get $p))))
                            (local.set $gt (f32x4.gt (local.get $v) (local.get $best)))
                            (local.set $best
                              (v128.bitselect (local.get $v) (local.get $best) (local.get $gt)))
                            (local.set $ats
                              (v128.bitselect (i32x4.splat (local.get $i)) (local.get $ats)
                                (local.get $gt)))
                            (local.set $i (i32.add (local.get $i) (i32.const 1)))
                            (local.set $p (i32.add (local.get $p) (local.get $colStride)))
                            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                            (br_if $search_cols (local.get $k)))
                          (local.set $q (i32.add (local.get $q) (local.get $rowStride)))
                          (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                          (br_if $search_rows (local.get $r)))
                        (if (v128.any_true
                              (i32x4.ne (local.get $ats) (v128.const i32x4 -1 -1 -1 -1)))
                          (then
                            (local.set $gv
                              (v128.load align=4
                                (i32.add (local.get $g) (i32.add (local.get $o) (local.get $d)))))
                            (local.set $i (i32.const 0))
                            (local.set $q (i32.add (local.get $corner) (local.get $d)))
                            (local.set $r (local.get $rows))
                            (loop $add_rows
                              (local.set $p (local.get $q))
                              (local.set $k (local.get $cols))
                              (loop $add_cols
                                (local.set $gt
                                  (i32x4.eq (local.get $ats) (i32x4.splat (local.get $i))))
                                (local.set $dv
                                  (v128.load align=4 (i32.add (local.get $dx) (local.get $p))))
                                (v128.store align=4 (i32.add (local.get $dx) (local.get $p))
                                  (v128.bitselect
                                    (f32x4.add (local.get $dv) (local.get $gv))
                                    (local.get $dv)
                                    (local.get $gt)))
                                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                                (local.set $p (i32.add (local.get $p) (local.get $colStride)))
                                (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                                (br_if $add_cols (local.get $k)))
                              (local.set $q (i32.add (local.get $q) (local.get $rowStride)))
                              (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                              (br_if $add_rows (local.get $r)))))
                        (local.set $d (i32.add (local.get $d) (i32.const 16)))
                        (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                        (br $chunks)))
                    ;; the c & 3 remaining channels, one at a time
                    (block $tail_done
                      (loop $tail
                        (br_if $tail_done (i32.ge_u (local.get $d) (local.get $colStride)))
                        (local.set $bs (f32.const -inf))
                        (local.set $at (i32.const -1))
                        (local.set $q (i32.add (local.get $corner) (local.get $d)))
                        (local.set $r (local.get $rows))
                        (loop $tail_rows
                          (local.set $p (local.get $q))
                          (local.set $k (local.get $cols))
                          (loop $tail_cols
                            (local.set $vs (f32.load (i32.add (local.get $x) (local.get $p))))
                            (if (f32.gt (local.get $vs) (local.get $bs))
                              (then
                                (local.set $bs (local.get $vs))
                                (local.set $at (local.get $p))))
                            (local.set $p (i32.add (local.get $p) (local.get $colStride)))
                            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                            (br_if $tail_cols (local.get $k)))
                          (local.set $q (i32.add (local.get $q) (local.get $rowStride)))
                          (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                          (br_if $tail_rows (local.get $r)))
                        (if (i32.ge_s (local.get $at) (i32.const 0))
                          (then
                            (f32.store (i32.add (local.get $dx) (local.get $at))
                              (f32.add
                                (f32.load (i32.add (local.get $dx) (local.get $at)))
                                (f32.load
                                  (i32.add (local.get $g) (i32.add (local.get $o) (local.get $d))))))))
                        (local.set $d (i32.add (local.get $d) (i32.const 4)))
                        (br $tail)))))
                (local.set $o (i32.add (local.get $o) (local.get $colStride)))
                (local.set $yc (i32.add (local.get $yc) (i32.const 1)))
                (br $yc_loop)))
            (local.set $yr (i32.add (local.get $yr) (i32.const 1)))
            (br $yr_loop)))
        (local.set $img (i32.add (local.get $img) (local.get $imageStride)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $batch_loop))))
)
