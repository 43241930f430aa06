# attention_rollout.gp: gnuplot script for attention_rollout.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in attention_rollout.dat. To re-render after editing:
#   cd figures/ch11 && gnuplot attention_rollout.gp

if (!exists("outfile")) outfile = "attention_rollout.png"
set terminal pngcairo size 1200,720 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "attention_rollout.dat"

set multiplot layout 1,2 title "Where ViT-B/16 looks (the paper's Figure 6): attention rollout through all 12 layers\n{/*0.75 the photo as the model sees it (224x224), and the class token's rollout over its 14x14 patches}\n{/*0.75 scaled to its largest value (yellow)}" font ',18'
unset key
unset xtics
unset ytics
unset colorbox
set border lw 0.5
set size ratio -1
set xrange [-0.5:223.5]
set yrange [-0.5:223.5]
set title font ',15'
set title 'the photo'
plot 'photo.png' binary filetype=png with rgbimage
set title 'attention rollout'
plot 'photo.png' binary filetype=png with rgbimage, \
     DATA using 1:2:3:4:5:6 with rgbalpha
unset multiplot
