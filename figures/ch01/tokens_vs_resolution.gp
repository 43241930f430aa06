# tokens_vs_resolution.gp: gnuplot script for tokens_vs_resolution.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in tokens_vs_resolution.dat. To re-render after editing:
#   cd figures/ch01 && gnuplot tokens_vs_resolution.gp

if (!exists("outfile")) outfile = "tokens_vs_resolution.png"
set terminal pngcairo size 1600,800 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "tokens_vs_resolution.dat"

set multiplot layout 1,2 title "Why a ViT cuts the image into patches"
set logscale y
set format y '10^{%L}'
set grid
set key bottom right opaque
set xlabel 'image side (pixels)'
set xrange [0:1050]
set ylabel 'tokens per image'
set yrange [1:1e8]
plot DATA index 0 using 1:2 with lines lw 3 title 'pixels (x3 channels)', \
     '' index 0 using 1:3 with lines lw 3 title '16x16 patches', \
     '' index 0 using 1:4 with lines lw 3 title '32x32 patches', \
     '' index 1 using 1:2 with points pt 7 ps 2 lc rgb 'black' notitle, \
     '' index 1 using 1:2:4 with labels offset 1,-1 left font ',16' notitle
set ylabel 'entries in one attention map (n^2)'
set yrange [1:1e15]
plot DATA index 0 using 1:5 with lines lw 3 title 'pixels (x3 channels)', \
     '' index 0 using 1:6 with lines lw 3 title '16x16 patches', \
     '' index 0 using 1:7 with lines lw 3 title '32x32 patches', \
     '' index 1 using 1:3 with points pt 7 ps 2 lc rgb 'black' notitle, \
     '' index 1 using 1:3:5 with labels offset 1,-1 left font ',16' notitle
unset multiplot
