# Shared by the dashboard scripts (docs/dashboards.md). A script is run as
#   gnuplot -c dashboards/NAME.gp DATA_DIR OUT.png|OUT.svg
# DATA_DIR holds the CSV files and meta.gp that `comb export csv --plots DATA_DIR`
# (or `comb dashboard`) writes; the output format follows OUT's extension.
# Restyle here: terminal size and font, colours, grid.
# The calling script sets `data` (DATA_DIR) and `out` (OUT) from its arguments:
# gnuplot's `load` does not pass them on.
load data.'/meta.gp'

set encoding utf8
ext = out[strlen(out) - 3:strlen(out)]
if (ext eq '.svg') {
    set terminal svg size 820,460 dynamic noenhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    if (ext ne '.png') { print 'output must end in .png or .svg: '.out; exit status 2 }
    set terminal pngcairo size 1000,560 noenhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out

set datafile separator comma
set datafile missing ''
set key autotitle columnhead
set key outside right top box opaque
set border 3 lc rgb '#555555'
set tics nomirror
set grid lc rgb '#dddddd' lt 1
set format y '%.6g'
set format x '%.6g'

# Colours for the series (pools, threads, ports), then repeated
array palette[10] = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']
colour(i) = palette[(i - 1) % 10 + 1]
