;; fer's own WebAssembly SIMD kernels for the elementwise and pooling gradients that tfjs's wasm backend
;; either lacks or runs slowly. They work in place on the tfjs wasm backend's memory (imported), on the
;; byte offsets of its tensors. Compiled to simd_wasm.ts by `node src/kernels/simd.build.mjs` (wabt).

(module
  (import "env" "memory" (memory 1))

  ;; dx = dy where x > 0, alpha * dy elsewhere; n floats.
  (func (export "leaky_relu_grad") (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $alpha f32)
    (local $o i32) (local $end4 i32) (local $end i32) (local $ones v128) (local $al v128) (local $zero v128)
    (local.set $ones (f32x4.splat (f32.const 1)))
    (local.set $al (f32x4.splat (local.get $alpha)))
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $end4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $o) (local.get $end4)))
        (v128.store (i32.add (local.get $dx) (local.get $o))
          (f32x4.mul
            (v128.load (i32.add (local.get $dy) (local.get $o)))
            (v128.bitselect (local.get $ones) (local.get $al)
              (f32x4.gt (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $zero)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $l)))
    (block $done2
      (loop $l2
        (br_if $done2 (i32.ge_u (local.get $o) (local.get $end)))
        (f32.store (i32.add (local.get $dx) (local.get $o))
          (f32.mul
            (f32.load (i32.add (local.get $dy) (local.get $o)))
            (select (f32.const 1) (local.get $alpha)
              (f32.gt (f32.load (i32.add (local.get $x) (local.get $o))) (f32.const 0)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $l2))))

  ;; 2x2, stride-2 max-pool gradient, NHWC, c a multiple of 4: each window's gradient goes to its first
  ;; maximum (row-major), the other three get 0. Windows do not overlap; positions outside every
  ;; window (odd h or w) are left as they are (the caller zeroes them).
  (func (export "max_pool_2x2_grad") (param $x i32) (param $g i32) (param $dx i32)
        (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (local $b i32) (local $yr i32) (local $yc i32) (local $ch i32)
    (local $o i32) (local $go i32) (local $c4 i32) (local $row4 i32)
    (local $va v128) (local $vb v128) (local $vc v128) (local $vd v128) (local $m v128)
    (local $ea v128) (local $eb v128) (local $ec v128) (local $t v128) (local $gv v128)
    (local.set $c4 (i32.shl (local.get $c) (i32.const 2)))
    (local.set $row4 (i32.mul (local.get $w) (local.get $c4)))
    (local.set $go (local.get $g))
    (local.set $b (i32.const 0))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $yr (i32.const 0))
      (block $rd (loop $rl
        (br_if $rd (i32.ge_u (local.get $yr) (local.get $oh)))
        (local.set $yc (i32.const 0))
        (block $cd (loop $cl
          (br_if $cd (i32.ge_u (local.get $yc) (local.get $ow)))
          ;; byte offset of the window's top-left element, channel 0
          (local.set $o (i32.shl
            (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.shl (local.get $yr) (i32.const 1))) (local.get $w))
                              (i32.shl (local.get $yc) (i32.const 1)))
                     (local.get $c))
            (i32.const 2)))
          (local.set $ch (i32.const 0))
          (block $hd (loop $hl
            (br_if $hd (i32.ge_u (local.get $ch) (local.get $c4)))
            (local.set $va (v128.load (i32.add (local.get $x) (local.get $o))))
            (local.set $vb (v128.load (i32.add (i32.add (local.get $x) (local.get $o)) (local.get $c4))))
            (local.set $vc (v128.load (i32.add (i32.add (local.get $x) (local.get $o)) (local.get $row4))))
            (local.set $vd (v128.load (i32.add (i32.add (i32.add (local.get $x) (local.get $o)) (local.get $row4)) (local.get $c4))))
            (local.set $m (f32x4.max (f32x4.max (local.get $va) (local.get $vb)) (f32x4.max (local.get $vc) (local.get $vd))))
            (local.set $ea (f32x4.eq (local.get $va) (local.get $m)))
            (local.set $eb (v128.andnot (f32x4.eq (local.get $vb) (local.get $m)) (local.get $ea)))
            (local.set $t (v128.or (local.get $ea) (local.get $eb)))
            (local.set $ec (v128.andnot (f32x4.eq (local.get $vc) (local.get $m)) (local.get $t)))
            (local.set $t (v128.or (local.get $t) (local.get $ec)))
            (local.set $gv (v128.load (local.get $go)))
            (v128.store (i32.add (local.get $dx) (local.get $o)) (v128.and (local.get $gv) (local.get $ea)))
            (v128.store (i32.add (i32.add (local.get $dx) (local.get $o)) (local.get $c4)) (v128.and (local.get $gv) (local.get $eb)))
            (v128.store (i32.add (i32.add (local.get $dx) (local.get $o)) (local.get $row4)) (v128.and (local.get $gv) (local.get $ec)))
            (v128.store (i32.add (i32.add (i32.add (local.get $dx) (local.get $o)) (local.get $row4)) (local.get $c4)) (v128.andnot (local.get $gv) (local.get $t)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (local.set $go (i32.add (local.get $go) (i32.const 16)))
            (local.set $ch (i32.add (local.get $ch) (i32.const 16)))
            (br $hl)))
          (local.set $yc (i32.add (local.get $yc) (i32.const 1)))
          (br $cl)))
        (local.set $yr (i32.add (local.get $yr) (i32.const 1)))
        (br $rl)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl)))
  )
)
