# top5.gp: gnuplot script for top5.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in top5.dat. To re-render after editing:
#   cd figures/ch11 && gnuplot top5.gp

if (!exists("outfile")) outfile = "top5.png"
set terminal pngcairo size 1300,560 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "top5.dat"

set multiplot title "ViT-B/16's top-5 for the photo {/*0.75 (random weights: a demonstration of the path, not an answer)}" font ',18'
unset key
set border lw 0.5
set lmargin at screen 0.02
set rmargin at screen 0.38
set tmargin at screen 0.88
set bmargin at screen 0.08
unset xtics
unset ytics
set size ratio -1
plot 'photo.png' binary filetype=png with rgbimage
set size noratio
set lmargin at screen 0.62
set rmargin at screen 0.95
set xrange [0:1]
set yrange [5.6:0.4]
set xtics 0.2 font ',12'
set ytics scale 0 font ',14'
set grid xtics
set xlabel 'probability' font ',14'
set style fill solid 0.8
plot DATA using (0):1:(0):2:($1-0.35):($1+0.35):ytic(3) with boxxyerrorbars lc rgb '#1f77b4', \
     DATA using 2:1:(sprintf('  %.1f%%', 100*$2)) with labels left font ',12'
unset multiplot
