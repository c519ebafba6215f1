# Heap in use over time: the blocks of each pool (or size class) stacked, in
# bytes, the bytes the program requested as a line, and the layout's capacity
# as a limit when the dashboard was given --layout.
# Input: heap_usage.csv (x, requested, one column per pool in ascending block order).
if (ARGC < 2) { print 'usage: gnuplot -c '.ARG0.' DATA_DIR OUT.png|OUT.svg'; exit status 2 }
data = ARG1
out = ARG2
dir = ARG0  # this script's directory, where style.gp is
while (strlen(dir) > 0 && dir[strlen(dir):strlen(dir)] ne '/') { dir = dir[1:strlen(dir) - 1] }
load dir.'style.gp'
f = data.'/heap_usage.csv'

set title 'Heap in use: '.pool_kind.' blocks (stacked) and bytes requested. '.session_title
set xlabel heap_x_label
set ylabel 'bytes'
set style fill solid 0.8 noborder
stats f using 2 nooutput
top = STATS_max
if (heap_capacity > 0) {
    top = heap_capacity > top ? heap_capacity : top
    set arrow 1 from graph 0, first heap_capacity to graph 1, first heap_capacity nohead dt 2 lw 2 lc rgb '#b00020' front
    set label 1 sprintf('[heap.%s] capacity: %d bytes', heap_layout, heap_capacity) at graph 0.01, first heap_capacity offset 0, 0.8 tc rgb '#b00020' front
}
set yrange [0:top * 1.12 + 1]
plot for [i=3:2 + heap_pools] f using 1:(sum [c=3:i - 1] column(c)):(sum [c=3:i] column(c)) with filledcurves lc rgb colour(i - 2) title columnhead(i), \
     f using 1:2 with steps lw 2 lc rgb 'black' title 'requested'
