# corruption.gp: gnuplot script for corruption.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in corruption.dat. To re-render after editing:
#   cd figures/ch12 && gnuplot corruption.gp

if (!exists("outfile")) outfile = "corruption.png"
set terminal pngcairo size 1620,1240 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "corruption.dat"

set multiplot title "Masked patch prediction: half the patches corrupted, their mean intensity (3 bits) predicted\n{/*0.75 blue: the [mask] embedding; orange frame: another patch's embedding; green frame: kept as it is; tan: not corrupted, not asked}" font ',22'
unset key
unset xtics
unset ytics
unset colorbox
set border lw 0.5
set size ratio -1
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
set title font ',15' offset 0,-0.5
set ylabel font ',16'
set lmargin at screen 0.0761
set rmargin at screen 0.2172
set tmargin at screen 0.8507
set bmargin at screen 0.6658
set ylabel "test image"
set title "Ankle boot"
plot DATA index 0 with rgbimage
set lmargin at screen 0.0761
set rmargin at screen 0.2172
set tmargin at screen 0.6357
set bmargin at screen 0.4507
set ylabel "encoder input"
set title ""
plot DATA index 1 with rgbimage
set lmargin at screen 0.0761
set rmargin at screen 0.2172
set tmargin at screen 0.4207
set bmargin at screen 0.2357
set ylabel "true level"
set title ""
plot DATA index 2 with rgbimage
set lmargin at screen 0.0761
set rmargin at screen 0.2172
set tmargin at screen 0.2056
set bmargin at screen 0.0208
set ylabel "predicted"
set title "6 of 8 right"
plot DATA index 3 with rgbimage
set lmargin at screen 0.2295
set rmargin at screen 0.3705
set tmargin at screen 0.8507
set bmargin at screen 0.6658
set ylabel ""
set title "Pullover"
plot DATA index 4 with rgbimage
set lmargin at screen 0.2295
set rmargin at screen 0.3705
set tmargin at screen 0.6357
set bmargin at screen 0.4507
set ylabel ""
set title ""
plot DATA index 5 with rgbimage
set lmargin at screen 0.2295
set rmargin at screen 0.3705
set tmargin at screen 0.4207
set bmargin at screen 0.2357
set ylabel ""
set title ""
plot DATA index 6 with rgbimage
set lmargin at screen 0.2295
set rmargin at screen 0.3705
set tmargin at screen 0.2056
set bmargin at screen 0.0208
set ylabel ""
set title "6 of 8 right"
plot DATA index 7 with rgbimage
set lmargin at screen 0.3828
set rmargin at screen 0.5239
set tmargin at screen 0.8507
set bmargin at screen 0.6658
set ylabel ""
set title "Trouser"
plot DATA index 8 with rgbimage
set lmargin at screen 0.3828
set rmargin at screen 0.5239
set tmargin at screen 0.6357
set bmargin at screen 0.4507
set ylabel ""
set title ""
plot DATA index 9 with rgbimage
set lmargin at screen 0.3828
set rmargin at screen 0.5239
set tmargin at screen 0.4207
set bmargin at screen 0.2357
set ylabel ""
set title ""
plot DATA index 10 with rgbimage
set lmargin at screen 0.3828
set rmargin at screen 0.5239
set tmargin at screen 0.2056
set bmargin at screen 0.0208
set ylabel ""
set title "8 of 8 right"
plot DATA index 11 with rgbimage
set lmargin at screen 0.5361
set rmargin at screen 0.6772
set tmargin at screen 0.8507
set bmargin at screen 0.6658
set ylabel ""
set title "Trouser"
plot DATA index 12 with rgbimage
set lmargin at screen 0.5361
set rmargin at screen 0.6772
set tmargin at screen 0.6357
set bmargin at screen 0.4507
set ylabel ""
set title ""
plot DATA index 13 with rgbimage
set lmargin at screen 0.5361
set rmargin at screen 0.6772
set tmargin at screen 0.4207
set bmargin at screen 0.2357
set ylabel ""
set title ""
plot DATA index 14 with rgbimage
set lmargin at screen 0.5361
set rmargin at screen 0.6772
set tmargin at screen 0.2056
set bmargin at screen 0.0208
set ylabel ""
set title "8 of 8 right"
plot DATA index 15 with rgbimage
set lmargin at screen 0.6895
set rmargin at screen 0.8305
set tmargin at screen 0.8507
set bmargin at screen 0.6658
set ylabel ""
set title "Shirt"
plot DATA index 16 with rgbimage
set lmargin at screen 0.6895
set rmargin at screen 0.8305
set tmargin at screen 0.6357
set bmargin at screen 0.4507
set ylabel ""
set title ""
plot DATA index 17 with rgbimage
set lmargin at screen 0.6895
set rmargin at screen 0.8305
set tmargin at screen 0.4207
set bmargin at screen 0.2357
set ylabel ""
set title ""
plot DATA index 18 with rgbimage
set lmargin at screen 0.6895
set rmargin at screen 0.8305
set tmargin at screen 0.2056
set bmargin at screen 0.0208
set ylabel ""
set title "8 of 8 right"
plot DATA index 19 with rgbimage
set lmargin at screen 0.8428
set rmargin at screen 0.9839
set tmargin at screen 0.8507
set bmargin at screen 0.6658
set ylabel ""
set title "Trouser"
plot DATA index 20 with rgbimage
set lmargin at screen 0.8428
set rmargin at screen 0.9839
set tmargin at screen 0.6357
set bmargin at screen 0.4507
set ylabel ""
set title ""
plot DATA index 21 with rgbimage
set lmargin at screen 0.8428
set rmargin at screen 0.9839
set tmargin at screen 0.4207
set bmargin at screen 0.2357
set ylabel ""
set title ""
plot DATA index 22 with rgbimage
set lmargin at screen 0.8428
set rmargin at screen 0.9839
set tmargin at screen 0.2056
set bmargin at screen 0.0208
set ylabel ""
set title "8 of 8 right"
plot DATA index 23 with rgbimage
unset multiplot
