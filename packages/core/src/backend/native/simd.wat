;; fer's own WebAssembly SIMD kernels for the elementwise and pooling gradients that tfjs's wasm backend
;; either lacks or runs slowly. They work in place on the tfjs wasm backend's memory (imported), on the
;; byte offsets of its tensors. Compiled to simd_wasm.ts by `node src/backend/native/simd.build.mjs` (wabt).

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
;; Per-channel sums over the rows of a [rows, c] float matrix (c a multiple of 4), and optionally of
  ;; dy * (x - mean) (BatchNorm's gradient): blocks of 128 rows are summed in float32 lanes, the block sums
  ;; added into float64 (as tfjs's cpu backend sums in doubles). $acc is scratch for 4*c doubles; the
  ;; results are written as float32 to $out1 (sum of $a) and $out2 (sum of $a * ($x - $mean)) when $x != 0.
  (func (export "channel_sums") (param $a i32) (param $x i32) (param $mean i32) (param $rows i32) (param $c i32)
        (param $acc i32) (param $out1 i32) (param $out2 i32)
    (local $r i32) (local $rend i32) (local $j i32) (local $c4 i32) (local $o i32) (local $blk1 i32) (local $blk2 i32)
    (local $v v128) (local $two i32)
    (local.set $c4 (i32.shl (local.get $c) (i32.const 2)))
    (local.set $two (i32.ne (local.get $x) (i32.const 0)))
    ;; scratch layout: [c doubles sum1][c doubles sum2][c floats blk1][c floats blk2]
    (local.set $blk1 (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 4))))
    (local.set $blk2 (i32.add (local.get $blk1) (local.get $c4)))
    (memory.fill (local.get $acc) (i32.const 0) (i32.shl (local.get $c) (i32.const 4)))
    (local.set $r (i32.const 0))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $rend (i32.add (local.get $r) (i32.const 128)))
      (if (i32.gt_u (local.get $rend) (local.get $rows)) (then (local.set $rend (local.get $rows))))
      (memory.fill (local.get $blk1) (i32.const 0) (i32.shl (local.get $c4) (i32.const 1)))
      (block $bd (loop $bl
        (br_if $bd (i32.ge_u (local.get $r) (local.get $rend)))
        (local.set $o (i32.mul (local.get $r) (local.get $c4)))
        (local.set $j (i32.const 0))
        (block $cd (loop $cl
          (br_if $cd (i32.ge_u (local.get $j) (local.get $c4)))
          (local.set $v (v128.load (i32.add (local.get $a) (i32.add (local.get $o) (local.get $j)))))
          (v128.store (i32.add (local.get $blk1) (local.get $j))
            (f32x4.add (v128.load (i32.add (local.get $blk1) (local.get $j))) (local.get $v)))
          (if (local.get $two) (then
            (v128.store (i32.add (local.get $blk2) (local.get $j))
              (f32x4.add (v128.load (i32.add (local.get $blk2) (local.get $j)))
                (f32x4.mul (local.get $v)
                  (f32x4.sub (v128.load (i32.add (local.get $x) (i32.add (local.get $o) (local.get $j))))
                             (v128.load (i32.add (local.get $mean) (local.get $j)))))))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $cl)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $bl)))
      ;; fold the block into the doubles, two channels at a time
      (local.set $j (i32.const 0))
      (block $fd (loop $fl
        (br_if $fd (i32.ge_u (local.get $j) (local.get $c4)))
        (v128.store (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 1)))
          (f64x2.add (v128.load (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 1))))
                     (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $blk1) (local.get $j))))))
        (v128.store (i32.add (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))) (i32.shl (local.get $j) (i32.const 1)))
          (f64x2.add (v128.load (i32.add (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))) (i32.shl (local.get $j) (i32.const 1))))
                     (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $blk2) (local.get $j))))))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $fl)))
      (br $rows)))
    ;; write float32 results
    (local.set $j (i32.const 0))
    (block $wd (loop $wl
      (br_if $wd (i32.ge_u (local.get $j) (local.get $c)))
      (f32.store (i32.add (local.get $out1) (i32.shl (local.get $j) (i32.const 2)))
        (f32.demote_f64 (f64.load (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))))
      (if (local.get $two) (then
        (f32.store (i32.add (local.get $out2) (i32.shl (local.get $j) (i32.const 2)))
          (f32.demote_f64 (f64.load (i32.add (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))) (i32.shl (local.get $j) (i32.const 3))))))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $wl)))
  )
;; dst[k] += src[k] for k < n (floats): the scatter-add of col2im, one image row at a time.
  (func (export "add_into") (param $dst i32) (param $src i32) (param $n i32)
    (local $o i32) (local $end4 i32) (local $end i32)
    (local.set $end4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $o) (local.get $end4)))
      (v128.store (i32.add (local.get $dst) (local.get $o))
        (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $o))) (v128.load (i32.add (local.get $src) (local.get $o)))))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br $l)))
    (block $d2 (loop $l2
      (br_if $d2 (i32.ge_u (local.get $o) (local.get $end)))
      (f32.store (i32.add (local.get $dst) (local.get $o))
        (f32.add (f32.load (i32.add (local.get $dst) (local.get $o))) (f32.load (i32.add (local.get $src) (local.get $o)))))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $l2))))
;; col2im for one input channel: dx[b, y*sh+i-top, x*sw+j-left] += t[((b*oh+y)*ow+x)*kh*kw + i*kw + j] for every
  ;; tap that lands inside the image (dx zeroed by the caller).
  (func (export "col2im_1ch") (param $t i32) (param $dx i32) (param $n i32) (param $h i32) (param $w i32)
        (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $left i32)
    (local $b i32) (local $y i32) (local $x i32) (local $i i32) (local $j i32) (local $r i32) (local $c i32)
    (local $tp i32) (local $rowbase i32) (local $addr i32)
    (local.set $tp (local.get $t))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $y (i32.const 0))
      (block $yd (loop $yl
        (br_if $yd (i32.ge_u (local.get $y) (local.get $oh)))
        (local.set $x (i32.const 0))
        (block $xd (loop $xl
          (br_if $xd (i32.ge_u (local.get $x) (local.get $ow)))
          (local.set $i (i32.const 0))
          (block $id (loop $il
            (br_if $id (i32.ge_u (local.get $i) (local.get $kh)))
            (local.set $r (i32.sub (i32.add (i32.mul (local.get $y) (local.get $sh)) (local.get $i)) (local.get $top)))
            (if (i32.and (i32.ge_s (local.get $r) (i32.const 0)) (i32.lt_s (local.get $r) (local.get $h)))
              (then
                (local.set $rowbase (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $r)) (local.get $w)))
                (local.set $j (i32.const 0))
                (block $jd (loop $jl
                  (br_if $jd (i32.ge_u (local.get $j) (local.get $kw)))
                  (local.set $c (i32.sub (i32.add (i32.mul (local.get $x) (local.get $sw)) (local.get $j)) (local.get $left)))
                  (if (i32.and (i32.ge_s (local.get $c) (i32.const 0)) (i32.lt_s (local.get $c) (local.get $w)))
                    (then
                      (local.set $addr (i32.add (local.get $dx) (i32.shl (i32.add (local.get $rowbase) (local.get $c)) (i32.const 2))))
                      (f32.store (local.get $addr)
                        (f32.add (f32.load (local.get $addr))
                          (f32.load (i32.add (local.get $tp) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (i32.const 2))))))))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br $jl)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
          (local.set $tp (i32.add (local.get $tp) (i32.shl (i32.mul (local.get $kh) (local.get $kw)) (i32.const 2))))
          (local.set $x (i32.add (local.get $x) (i32.const 1)))
          (br $xl)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yl)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl)))
  )
;; LeakyReLU forward for 0 <= alpha <= 1: max(x, alpha * x).
  (func (export "leaky_relu") (param $x i32) (param $y i32) (param $n i32) (param $alpha f32)
    (local $o i32) (local $end4 i32) (local $end i32) (local $al v128) (local $v v128) (local $s f32)
    (local.set $al (f32x4.splat (local.get $alpha)))
    (local.set $end4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $o) (local.get $end4)))
      (local.set $v (v128.load (i32.add (local.get $x) (local.get $o))))
      (v128.store (i32.add (local.get $y) (local.get $o)) (f32x4.max (local.get $v) (f32x4.mul (local.get $v) (local.get $al))))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br $l)))
    (block $d2 (loop $l2
      (br_if $d2 (i32.ge_u (local.get $o) (local.get $end)))
      (local.set $s (f32.load (i32.add (local.get $x) (local.get $o))))
      (f32.store (i32.add (local.get $y) (local.get $o)) (f32.max (local.get $s) (f32.mul (local.get $s) (local.get $alpha))))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $l2))))
;; 2x2, stride-2 max pool forward, NHWC, c a multiple of 4, the output [n, oh, ow, c].
  (func (export "max_pool_2x2") (param $x i32) (param $y i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (local $b i32) (local $yr i32) (local $yc i32) (local $ch i32) (local $o i32) (local $yo i32) (local $c4 i32) (local $row4 i32) (local $p i32)
    (local.set $c4 (i32.shl (local.get $c) (i32.const 2)))
    (local.set $row4 (i32.mul (local.get $w) (local.get $c4)))
    (local.set $yo (local.get $y))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $yr (i32.const 0))
      (block $rd (loop $rl
        (br_if $rd (i32.ge_u (local.get $yr) (local.get $oh)))
        (local.set $yc (i32.const 0))
        (block $cd (loop $cl
          (br_if $cd (i32.ge_u (local.get $yc) (local.get $ow)))
          (local.set $o (i32.add (local.get $x) (i32.shl
            (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.shl (local.get $yr) (i32.const 1))) (local.get $w))
                              (i32.shl (local.get $yc) (i32.const 1)))
                     (local.get $c))
            (i32.const 2))))
          (local.set $ch (i32.const 0))
          (block $hd (loop $hl
            (br_if $hd (i32.ge_u (local.get $ch) (local.get $c4)))
            (local.set $p (i32.add (local.get $o) (local.get $ch)))
            (v128.store (local.get $yo)
              (f32x4.max
                (f32x4.max (v128.load (local.get $p)) (v128.load (i32.add (local.get $p) (local.get $c4))))
                (f32x4.max (v128.load (i32.add (local.get $p) (local.get $row4))) (v128.load (i32.add (i32.add (local.get $p) (local.get $row4)) (local.get $c4))))))
            (local.set $yo (i32.add (local.get $yo) (i32.const 16)))
            (local.set $ch (i32.add (local.get $ch) (i32.const 16)))
            (br $hl)))
          (local.set $yc (i32.add (local.get $yc) (i32.const 1)))
          (br $cl)))
        (local.set $yr (i32.add (local.get $yr) (i32.const 1)))
        (br $rl)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl)))
  )
;; y[r][j] = (x[r][j] - m[j]) * a[j] + b[j] for $rows rows of $c floats (c a multiple of 4): BatchNorm's
  ;; normalisation with per-channel m = mean, a = scale / sqrt(variance + eps) and b = offset, one pass.
  (func (export "channel_affine") (param $x i32) (param $m i32) (param $a i32) (param $b i32) (param $y i32) (param $rows i32) (param $c i32)
    (local $o i32) (local $end i32) (local $j i32) (local $c4 i32)
    (local.set $c4 (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.mul (local.get $rows) (local.get $c4)))
    (block $rd (loop $rl
      (br_if $rd (i32.ge_u (local.get $o) (local.get $end)))
      (local.set $j (i32.const 0))
      (block $cd (loop $cl
        (br_if $cd (i32.ge_u (local.get $j) (local.get $c4)))
        (v128.store (i32.add (local.get $y) (i32.add (local.get $o) (local.get $j)))
          (f32x4.add
            (f32x4.mul
              (f32x4.sub (v128.load (i32.add (local.get $x) (i32.add (local.get $o) (local.get $j))))
                         (v128.load (i32.add (local.get $m) (local.get $j))))
              (v128.load (i32.add (local.get $a) (local.get $j))))
            (v128.load (i32.add (local.get $b) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $cl)))
      (local.set $o (i32.add (local.get $o) (local.get $c4)))
      (br $rl)))
  )
;; y = a * b * s elementwise, n floats: the gradient of a square, dy * 2x, in one pass.
  (func (export "scaled_mul") (param $a i32) (param $b i32) (param $y i32) (param $n i32) (param $s f32)
    (local $o i32) (local $end4 i32) (local $end i32) (local $sv v128)
    (local.set $sv (f32x4.splat (local.get $s)))
    (local.set $end4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $o) (local.get $end4)))
      (v128.store (i32.add (local.get $y) (local.get $o))
        (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $o))) (v128.load (i32.add (local.get $b) (local.get $o)))) (local.get $sv)))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br $l)))
    (block $d2 (loop $l2
      (br_if $d2 (i32.ge_u (local.get $o) (local.get $end)))
      (f32.store (i32.add (local.get $y) (local.get $o))
        (f32.mul (f32.mul (f32.load (i32.add (local.get $a) (local.get $o))) (f32.load (i32.add (local.get $b) (local.get $o)))) (local.get $s)))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $l2))))
)
