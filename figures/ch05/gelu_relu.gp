# gelu_relu.gp: gnuplot script for gelu_relu.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in gelu_relu.dat. To re-render after editing:
#   cd figures/ch05 && gnuplot gelu_relu.gp

if (!exists("outfile")) outfile = "gelu_relu.png"
set terminal pngcairo size 1600,700 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "gelu_relu.dat"

set multiplot layout 1,2 title "GELU against ReLU" font ',20'
set grid
set key top left font ',16'
set xrange [-4:4]
set xlabel 'x' font ',16'
set tics font ',14'
set xzeroaxis lt -1
set yzeroaxis lt -1
set title 'the function' font ',18'
set yrange [-0.5:4]
set label 1 'least value -0.170 at x = -0.752' at -0.752,-0.32 center font ',14'
set object 1 circle at -0.752,-0.170 size 0.06 fc rgb 'black' fs solid front
plot DATA using 1:2 with lines lw 4 lc rgb '#e8543e' title 'ReLU(x) = max(x, 0)', \
     '' using 1:3 with lines lw 4 lc rgb '#1f77b4' title 'GELU(x) = x {/Symbol F}(x)'
set title 'its slope' font ',18'
set yrange [-0.2:1.2]
unset label 1
unset object 1
plot DATA using 1:4 with steps lw 4 lc rgb '#e8543e' title "ReLU'(x)", \
     '' using 1:5 with lines lw 4 lc rgb '#1f77b4' title "GELU'(x)"
unset multiplot
