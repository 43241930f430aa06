# attention_rollout.gp: gnuplot script for attention_rollout.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in attention_rollout.dat. To re-render after editing:
#   cd figures/ch09 && gnuplot attention_rollout.gp

if (!exists("outfile")) outfile = "attention_rollout.png"
set terminal pngcairo size 2000,1520 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "attention_rollout.dat"

set multiplot title "What the class token attends to (the paper's Figure 6): attention rollout through all layers, and the last layer alone\n{/*0.75 4 test images the ViT, patch 7 gets right, then 4 it gets wrong; the maps scaled to their largest value (yellow), over the image}" font ',22'
unset key
unset xtics
unset ytics
unset colorbox
set border lw 0.5
set size ratio -1
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
set title font ',14' offset 0,-0.5
set ylabel font ',15'
set lmargin at screen 0.0758
set rmargin at screen 0.1792
set tmargin at screen 0.8528
set bmargin at screen 0.7152
set ylabel "test image"
set title "#0 Ankle boot"
plot DATA index 0 with rgbimage
set lmargin at screen 0.0758
set rmargin at screen 0.1792
set tmargin at screen 0.6808
set bmargin at screen 0.5432
set ylabel "ViT, patch 7\nrollout"
set title "said Ankle boot"
plot DATA index 1 with rgbimage
set lmargin at screen 0.0758
set rmargin at screen 0.1792
set tmargin at screen 0.5088
set bmargin at screen 0.3712
set ylabel "ViT, patch 7\nlast layer"
set title ""
plot DATA index 2 with rgbimage
set lmargin at screen 0.0758
set rmargin at screen 0.1792
set tmargin at screen 0.3368
set bmargin at screen 0.1992
set ylabel "ViT, patch 4\nrollout"
set title "said Ankle boot"
plot DATA index 3 with rgbimage
set lmargin at screen 0.0758
set rmargin at screen 0.1792
set tmargin at screen 0.1648
set bmargin at screen 0.0272
set ylabel "ViT, patch 4\nlast layer"
set title ""
plot DATA index 4 with rgbimage
set lmargin at screen 0.1908
set rmargin at screen 0.2943
set tmargin at screen 0.8528
set bmargin at screen 0.7152
set ylabel ""
set title "#1 Pullover"
plot DATA index 5 with rgbimage
set lmargin at screen 0.1908
set rmargin at screen 0.2943
set tmargin at screen 0.6808
set bmargin at screen 0.5432
set ylabel ""
set title "said Pullover"
plot DATA index 6 with rgbimage
set lmargin at screen 0.1908
set rmargin at screen 0.2943
set tmargin at screen 0.5088
set bmargin at screen 0.3712
set ylabel ""
set title ""
plot DATA index 7 with rgbimage
set lmargin at screen 0.1908
set rmargin at screen 0.2943
set tmargin at screen 0.3368
set bmargin at screen 0.1992
set ylabel ""
set title "said Pullover"
plot DATA index 8 with rgbimage
set lmargin at screen 0.1908
set rmargin at screen 0.2943
set tmargin at screen 0.1648
set bmargin at screen 0.0272
set ylabel ""
set title ""
plot DATA index 9 with rgbimage
set lmargin at screen 0.3057
set rmargin at screen 0.4093
set tmargin at screen 0.8528
set bmargin at screen 0.7152
set ylabel ""
set title "#2 Trouser"
plot DATA index 10 with rgbimage
set lmargin at screen 0.3057
set rmargin at screen 0.4093
set tmargin at screen 0.6808
set bmargin at screen 0.5432
set ylabel ""
set title "said Trouser"
plot DATA index 11 with rgbimage
set lmargin at screen 0.3057
set rmargin at screen 0.4093
set tmargin at screen 0.5088
set bmargin at screen 0.3712
set ylabel ""
set title ""
plot DATA index 12 with rgbimage
set lmargin at screen 0.3057
set rmargin at screen 0.4093
set tmargin at screen 0.3368
set bmargin at screen 0.1992
set ylabel ""
set title "said Trouser"
plot DATA index 13 with rgbimage
set lmargin at screen 0.3057
set rmargin at screen 0.4093
set tmargin at screen 0.1648
set bmargin at screen 0.0272
set ylabel ""
set title ""
plot DATA index 14 with rgbimage
set lmargin at screen 0.4207
set rmargin at screen 0.5242
set tmargin at screen 0.8528
set bmargin at screen 0.7152
set ylabel ""
set title "#3 Trouser"
plot DATA index 15 with rgbimage
set lmargin at screen 0.4207
set rmargin at screen 0.5242
set tmargin at screen 0.6808
set bmargin at screen 0.5432
set ylabel ""
set title "said Trouser"
plot DATA index 16 with rgbimage
set lmargin at screen 0.4207
set rmargin at screen 0.5242
set tmargin at screen 0.5088
set bmargin at screen 0.3712
set ylabel ""
set title ""
plot DATA index 17 with rgbimage
set lmargin at screen 0.4207
set rmargin at screen 0.5242
set tmargin at screen 0.3368
set bmargin at screen 0.1992
set ylabel ""
set title "said Trouser"
plot DATA index 18 with rgbimage
set lmargin at screen 0.4207
set rmargin at screen 0.5242
set tmargin at screen 0.1648
set bmargin at screen 0.0272
set ylabel ""
set title ""
plot DATA index 19 with rgbimage
set lmargin at screen 0.5358
set rmargin at screen 0.6392
set tmargin at screen 0.8528
set bmargin at screen 0.7152
set ylabel ""
set title "#12 Sneaker"
plot DATA index 20 with rgbimage
set lmargin at screen 0.5358
set rmargin at screen 0.6392
set tmargin at screen 0.6808
set bmargin at screen 0.5432
set ylabel ""
set title "said Bag ✗"
plot DATA index 21 with rgbimage
set lmargin at screen 0.5358
set rmargin at screen 0.6392
set tmargin at screen 0.5088
set bmargin at screen 0.3712
set ylabel ""
set title ""
plot DATA index 22 with rgbimage
set lmargin at screen 0.5358
set rmargin at screen 0.6392
set tmargin at screen 0.3368
set bmargin at screen 0.1992
set ylabel ""
set title "said Bag ✗"
plot DATA index 23 with rgbimage
set lmargin at screen 0.5358
set rmargin at screen 0.6392
set tmargin at screen 0.1648
set bmargin at screen 0.0272
set ylabel ""
set title ""
plot DATA index 24 with rgbimage
set lmargin at screen 0.6508
set rmargin at screen 0.7542
set tmargin at screen 0.8528
set bmargin at screen 0.7152
set ylabel ""
set title "#17 Coat"
plot DATA index 25 with rgbimage
set lmargin at screen 0.6508
set rmargin at screen 0.7542
set tmargin at screen 0.6808
set bmargin at screen 0.5432
set ylabel ""
set title "said Pullover ✗"
plot DATA index 26 with rgbimage
set lmargin at screen 0.6508
set rmargin at screen 0.7542
set tmargin at screen 0.5088
set bmargin at screen 0.3712
set ylabel ""
set title ""
plot DATA index 27 with rgbimage
set lmargin at screen 0.6508
set rmargin at screen 0.7542
set tmargin at screen 0.3368
set bmargin at screen 0.1992
set ylabel ""
set title "said Coat"
plot DATA index 28 with rgbimage
set lmargin at screen 0.6508
set rmargin at screen 0.7542
set tmargin at screen 0.1648
set bmargin at screen 0.0272
set ylabel ""
set title ""
plot DATA index 29 with rgbimage
set lmargin at screen 0.7658
set rmargin at screen 0.8692
set tmargin at screen 0.8528
set bmargin at screen 0.7152
set ylabel ""
set title "#23 Ankle boot"
plot DATA index 30 with rgbimage
set lmargin at screen 0.7658
set rmargin at screen 0.8692
set tmargin at screen 0.6808
set bmargin at screen 0.5432
set ylabel ""
set title "said Sneaker ✗"
plot DATA index 31 with rgbimage
set lmargin at screen 0.7658
set rmargin at screen 0.8692
set tmargin at screen 0.5088
set bmargin at screen 0.3712
set ylabel ""
set title ""
plot DATA index 32 with rgbimage
set lmargin at screen 0.7658
set rmargin at screen 0.8692
set tmargin at screen 0.3368
set bmargin at screen 0.1992
set ylabel ""
set title "said Sandal ✗"
plot DATA index 33 with rgbimage
set lmargin at screen 0.7658
set rmargin at screen 0.8692
set tmargin at screen 0.1648
set bmargin at screen 0.0272
set ylabel ""
set title ""
plot DATA index 34 with rgbimage
set lmargin at screen 0.8808
set rmargin at screen 0.9842
set tmargin at screen 0.8528
set bmargin at screen 0.7152
set ylabel ""
set title "#25 Coat"
plot DATA index 35 with rgbimage
set lmargin at screen 0.8808
set rmargin at screen 0.9842
set tmargin at screen 0.6808
set bmargin at screen 0.5432
set ylabel ""
set title "said Pullover ✗"
plot DATA index 36 with rgbimage
set lmargin at screen 0.8808
set rmargin at screen 0.9842
set tmargin at screen 0.5088
set bmargin at screen 0.3712
set ylabel ""
set title ""
plot DATA index 37 with rgbimage
set lmargin at screen 0.8808
set rmargin at screen 0.9842
set tmargin at screen 0.3368
set bmargin at screen 0.1992
set ylabel ""
set title "said Pullover ✗"
plot DATA index 38 with rgbimage
set lmargin at screen 0.8808
set rmargin at screen 0.9842
set tmargin at screen 0.1648
set bmargin at screen 0.0272
set ylabel ""
set title ""
plot DATA index 39 with rgbimage
unset multiplot
