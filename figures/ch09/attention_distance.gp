# attention_distance.gp: gnuplot script for attention_distance.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in attention_distance.dat. To re-render after editing:
#   cd figures/ch09 && gnuplot attention_distance.gp

if (!exists("outfile")) outfile = "attention_distance.png"
set terminal pngcairo size 1900,800 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "attention_distance.dat"

set multiplot layout 1,2 title "Mean attention distance of every head, over 1,000 test images (the paper's Figure 7, right)\n{/*0.75 the attention-weighted distance between the centres of a query patch and the patches it looks at}" font ',22'
set grid
set tics font ',15'
set xlabel 'network depth (layer)' font ',17'
set ylabel 'mean attention distance (pixels)' font ',17'
set key bottom right font ',15' box opaque
set yrange [0:17]
set title font ',19'
set xrange [0.5:6.5]
set xtics 1
set title "ViT, patch 7 (4x4 patches, 4 heads)"
plot 14.0561 with lines dt 2 lw 2 lc rgb '#777777' title 'uniform attention (14.1 px)', \
     DATA index 0 using ($1-0.12):4 with points pt 6 ps 2.2 lw 2 lc rgb '#ff7f0e' title 'at initialisation', \
     DATA index 0 using ($1+0.12):3 with points pt 7 ps 2.2 lc rgb '#1f77b4' title 'trained'
set xrange [0.5:6.5]
set xtics 1
set title "ViT, patch 4 (7x7 patches, 4 heads)"
plot 14.4379 with lines dt 2 lw 2 lc rgb '#777777' title 'uniform attention (14.4 px)', \
     DATA index 1 using ($1-0.12):4 with points pt 6 ps 2.2 lw 2 lc rgb '#ff7f0e' title 'at initialisation', \
     DATA index 1 using ($1+0.12):3 with points pt 7 ps 2.2 lc rgb '#1f77b4' title 'trained'
unset multiplot
