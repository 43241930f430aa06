# embedding_pcs.gp: gnuplot script for embedding_pcs.png, written by a ViT-in-C chapter program
# (src/plot.c); the numbers are in embedding_pcs.dat. To re-render after editing:
#   cd figures/ch09 && gnuplot embedding_pcs.gp

if (!exists("outfile")) outfile = "embedding_pcs.png"
set terminal pngcairo size 1700,1006 enhanced font "DejaVu Sans,20" linewidth 2
set output outfile
DATA = "embedding_pcs.dat"

set multiplot title "Principal components of the patch-embedding filters (the paper's Figure 7, left)\n{/*0.75 each a unit vector of P·P numbers; title: component and the share of the filters' variance it explains}" font ',22'
unset key
unset xtics
unset ytics
set border lw 0.5
set size noratio
set palette defined (-1 '#2166ac', 0 'white', 1 '#b2182b')
set title font ',15' offset 0,-0.6
set label 1 "ViT, patch 7\n{/*0.8 64 filters}" at screen 0.05, screen 0.6450 center rotate by 90 font ',18'
set cbrange [-0.461341:0.461341]
set xrange [-0.5:6.5]
set yrange [6.5:-0.5]
set lmargin at screen 0.0969
set rmargin at screen 0.1818
set tmargin at screen 0.8193
set bmargin at screen 0.6757
unset colorbox
set title "1: 6.8%"
plot DATA index 0 matrix with image
unset label 1
set lmargin at screen 0.1957
set rmargin at screen 0.2806
set tmargin at screen 0.8193
set bmargin at screen 0.6757
unset colorbox
set title "2: 6.0%"
plot DATA index 1 matrix with image
set lmargin at screen 0.2944
set rmargin at screen 0.3793
set tmargin at screen 0.8193
set bmargin at screen 0.6757
unset colorbox
set title "3: 5.5%"
plot DATA index 2 matrix with image
set lmargin at screen 0.3932
set rmargin at screen 0.4781
set tmargin at screen 0.8193
set bmargin at screen 0.6757
unset colorbox
set title "4: 5.4%"
plot DATA index 3 matrix with image
set lmargin at screen 0.4919
set rmargin at screen 0.5768
set tmargin at screen 0.8193
set bmargin at screen 0.6757
unset colorbox
set title "5: 5.2%"
plot DATA index 4 matrix with image
set lmargin at screen 0.5907
set rmargin at screen 0.6756
set tmargin at screen 0.8193
set bmargin at screen 0.6757
unset colorbox
set title "6: 4.8%"
plot DATA index 5 matrix with image
set lmargin at screen 0.6894
set rmargin at screen 0.7743
set tmargin at screen 0.8193
set bmargin at screen 0.6757
unset colorbox
set title "7: 4.4%"
plot DATA index 6 matrix with image
set lmargin at screen 0.7882
set rmargin at screen 0.8731
set tmargin at screen 0.8193
set bmargin at screen 0.6757
unset colorbox
set title "8: 4.2%"
plot DATA index 7 matrix with image
set lmargin at screen 0.0969
set rmargin at screen 0.1818
set tmargin at screen 0.6143
set bmargin at screen 0.4708
unset colorbox
set title "9: 4.1%"
plot DATA index 8 matrix with image
set lmargin at screen 0.1957
set rmargin at screen 0.2806
set tmargin at screen 0.6143
set bmargin at screen 0.4708
unset colorbox
set title "10: 3.8%"
plot DATA index 9 matrix with image
set lmargin at screen 0.2944
set rmargin at screen 0.3793
set tmargin at screen 0.6143
set bmargin at screen 0.4708
unset colorbox
set title "11: 3.5%"
plot DATA index 10 matrix with image
set lmargin at screen 0.3932
set rmargin at screen 0.4781
set tmargin at screen 0.6143
set bmargin at screen 0.4708
unset colorbox
set title "12: 3.3%"
plot DATA index 11 matrix with image
set lmargin at screen 0.4919
set rmargin at screen 0.5768
set tmargin at screen 0.6143
set bmargin at screen 0.4708
unset colorbox
set title "13: 3.3%"
plot DATA index 12 matrix with image
set lmargin at screen 0.5907
set rmargin at screen 0.6756
set tmargin at screen 0.6143
set bmargin at screen 0.4708
unset colorbox
set title "14: 3.1%"
plot DATA index 13 matrix with image
set lmargin at screen 0.6894
set rmargin at screen 0.7743
set tmargin at screen 0.6143
set bmargin at screen 0.4708
unset colorbox
set title "15: 2.9%"
plot DATA index 14 matrix with image
set lmargin at screen 0.7882
set rmargin at screen 0.8731
set tmargin at screen 0.6143
set bmargin at screen 0.4708
set colorbox user origin screen 0.9, screen 0.4600 size screen 0.015, screen 0.3700
set cbtics font ',13'
set title "16: 2.8%"
plot DATA index 15 matrix with image
set label 1 "ViT, patch 4\n{/*0.8 64 filters}" at screen 0.05, screen 0.2350 center rotate by 90 font ',18'
set cbrange [-0.70645:0.70645]
set xrange [-0.5:3.5]
set yrange [3.5:-0.5]
set lmargin at screen 0.0969
set rmargin at screen 0.1818
set tmargin at screen 0.4093
set bmargin at screen 0.2657
unset colorbox
set title "1: 12.0%"
plot DATA index 16 matrix with image
unset label 1
set lmargin at screen 0.1957
set rmargin at screen 0.2806
set tmargin at screen 0.4093
set bmargin at screen 0.2657
unset colorbox
set title "2: 11.4%"
plot DATA index 17 matrix with image
set lmargin at screen 0.2944
set rmargin at screen 0.3793
set tmargin at screen 0.4093
set bmargin at screen 0.2657
unset colorbox
set title "3: 10.6%"
plot DATA index 18 matrix with image
set lmargin at screen 0.3932
set rmargin at screen 0.4781
set tmargin at screen 0.4093
set bmargin at screen 0.2657
unset colorbox
set title "4: 9.4%"
plot DATA index 19 matrix with image
set lmargin at screen 0.4919
set rmargin at screen 0.5768
set tmargin at screen 0.4093
set bmargin at screen 0.2657
unset colorbox
set title "5: 8.8%"
plot DATA index 20 matrix with image
set lmargin at screen 0.5907
set rmargin at screen 0.6756
set tmargin at screen 0.4093
set bmargin at screen 0.2657
unset colorbox
set title "6: 8.2%"
plot DATA index 21 matrix with image
set lmargin at screen 0.6894
set rmargin at screen 0.7743
set tmargin at screen 0.4093
set bmargin at screen 0.2657
unset colorbox
set title "7: 6.8%"
plot DATA index 22 matrix with image
set lmargin at screen 0.7882
set rmargin at screen 0.8731
set tmargin at screen 0.4093
set bmargin at screen 0.2657
unset colorbox
set title "8: 5.8%"
plot DATA index 23 matrix with image
set lmargin at screen 0.0969
set rmargin at screen 0.1818
set tmargin at screen 0.2042
set bmargin at screen 0.0608
unset colorbox
set title "9: 5.6%"
plot DATA index 24 matrix with image
set lmargin at screen 0.1957
set rmargin at screen 0.2806
set tmargin at screen 0.2042
set bmargin at screen 0.0608
unset colorbox
set title "10: 4.6%"
plot DATA index 25 matrix with image
set lmargin at screen 0.2944
set rmargin at screen 0.3793
set tmargin at screen 0.2042
set bmargin at screen 0.0608
unset colorbox
set title "11: 4.1%"
plot DATA index 26 matrix with image
set lmargin at screen 0.3932
set rmargin at screen 0.4781
set tmargin at screen 0.2042
set bmargin at screen 0.0608
unset colorbox
set title "12: 3.5%"
plot DATA index 27 matrix with image
set lmargin at screen 0.4919
set rmargin at screen 0.5768
set tmargin at screen 0.2042
set bmargin at screen 0.0608
unset colorbox
set title "13: 3.4%"
plot DATA index 28 matrix with image
set lmargin at screen 0.5907
set rmargin at screen 0.6756
set tmargin at screen 0.2042
set bmargin at screen 0.0608
unset colorbox
set title "14: 2.5%"
plot DATA index 29 matrix with image
set lmargin at screen 0.6894
set rmargin at screen 0.7743
set tmargin at screen 0.2042
set bmargin at screen 0.0608
unset colorbox
set title "15: 2.2%"
plot DATA index 30 matrix with image
set lmargin at screen 0.7882
set rmargin at screen 0.8731
set tmargin at screen 0.2042
set bmargin at screen 0.0608
set colorbox user origin screen 0.9, screen 0.0500 size screen 0.015, screen 0.3700
set cbtics font ',13'
set title "16: 1.2%"
plot DATA index 31 matrix with image
unset multiplot
