# patch_grid.gp: gnuplot script for patch_grid.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in patch_grid.dat. To re-render after editing:
#   cd figures/ch01 && gnuplot patch_grid.gp

if (!exists("outfile")) outfile = "patch_grid.png"
set terminal pngcairo size 1000,1000 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "patch_grid.dat"

set title "Patches in sequence order"
set size ratio -1
unset key
unset colorbox
unset border
unset tics
set xrange [-0.5:28-0.5]
set yrange [28-0.5:-0.5]
set palette gray
do for [i=0:4] { set arrow from i*7-0.5, graph 0 to i*7-0.5, graph 1 nohead front lc rgb '#e8543e' lw 2 }
do for [j=0:4] { set arrow from graph 0, first j*7-0.5 to graph 1, first j*7-0.5 nohead front lc rgb '#e8543e' lw 2 }
plot DATA index 0 using 1:2:3 with image, \
     DATA index 1 using 1:2:3 with labels font ',22' textcolor rgb '#ffd23f'
