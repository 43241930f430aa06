# projection_filters.gp: gnuplot script for projection_filters.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in projection_filters.dat. To re-render after editing:
#   cd figures/ch02 && gnuplot projection_filters.gp

if (!exists("outfile")) outfile = "projection_filters.png"
set terminal pngcairo size 1100,1000 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "projection_filters.dat"

set title "The 64 patch-projection filters at initialisation: random noise\n{/*0.8 (each a 7x7 weight row, uniform in ±1/√49 as PyTorch initialises a Conv2d)}"
set size ratio -1
unset key
unset border
unset xtics
unset ytics
set palette defined (-1 '#2166ac', 0 'white', 1 '#b2182b')
set cbrange [-0.142857:0.142857]
set cbtics 0.142857 format '%.2f'
set cblabel 'weight'
set xrange [-0.5:63-0.5]
set yrange [63-0.5:-0.5]
GAP = "front fc rgb 'white' fillstyle solid noborder"
do for [k=1:7] { set object rect from first k*8-1.5, graph 0 to first k*8-0.5, graph 1 @GAP }
do for [k=1:7] { set object rect from graph 0, first k*8-1.5 to graph 1, first k*8-0.5 @GAP }
set object rect from first 64-0.5, first 56-0.5 to graph 1, graph 0 @GAP
plot DATA matrix with image
