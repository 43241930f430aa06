# resolution.gp: gnuplot script for resolution.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in resolution.dat. To re-render after editing:
#   cd figures/ch10 && gnuplot resolution.gp

if (!exists("outfile")) outfile = "resolution.png"
set terminal pngcairo size 1400,950 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "resolution.dat"

set title "Chapter 06's ViT (trained at 28x28) at higher resolutions, patch 7 kept\n{/*0.75 position embeddings interpolated (bicubic); the fine-tune: one pass over 10000 enlarged}\n{/*0.75 training images, SGD with momentum 0.9, peak learning rate 0.03}" font ',22'
set grid
set tics font ',16'
set key top right font ',16' box opaque
set xlabel 'image side (pixels), and the grid of 7x7 patches' font ',18'
set ylabel 'test accuracy' font ',18'
set format y '%.0f%%'
set xrange [24:60]
set yrange [54:98]
set xtics ("28\n4x4" 28, "42\n6x6" 42, "56\n8x8" 56)
plot DATA using 1:($3*100) with linespoints lw 4 pt 7 ps 2 lc rgb '#1f77b4' title 'carried over, no further training', \
     '' using 1:($4*100) with linespoints lw 4 pt 5 ps 2 lc rgb '#d62728' title 'after the short fine-tune at that size', \
     '' using 1:($3*100):(sprintf('%.1f%%', $3*100)) with labels offset 4.5,0 font ',15' tc rgb '#1f77b4' notitle, \
     '' using 1:($4*100):(sprintf('%.1f%%', $4*100)) with labels offset -2.5,-1.3 font ',15' tc rgb '#d62728' notitle
