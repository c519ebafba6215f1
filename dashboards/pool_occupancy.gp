# Pool occupancy against capacity: per pool, the most blocks in use at once
# (dark) inside its capacity (light, with --layout), and what was still in use
# at the end. Without a layout: the size classes' peaks.
# Input: heap_pools.csv (pool, block, capacity, peak, served, borrowed, in_use_at_end).
if (ARGC < 2) { print 'usage: gnuplot -c '.ARG0.' DATA_DIR OUT.png|OUT.svg'; exit status 2 }
data = ARG1
out = ARG2
dir = ARG0  # this script's directory, where style.gp is
while (strlen(dir) > 0 && dir[strlen(dir):strlen(dir)] ne '/') { dir = dir[1:strlen(dir) - 1] }
load dir.'style.gp'
f = data.'/heap_pools.csv'

set title 'Occupancy per '.pool_kind.': peak blocks in use'.(heap_capacity > 0 ? ' against capacity' : '').'. '.session_title
set ylabel 'blocks'
set xlabel pool_kind.' (block size)'
set style fill solid 0.9 border lc rgb '#555555'
set boxwidth 0.7
set yrange [0:*]
set offsets 0.5, 0.5, 0, 0
set xtics rotate by -30
if (heap_capacity > 0) {
    plot f using 0:3:xtic(1) with boxes lc rgb '#c9d7e8' title 'capacity', \
         f using 0:4:(0.45) with boxes lc rgb '#1f4e79' title 'peak in use', \
         f using 0:7:(0.2) with boxes lc rgb '#ff7f0e' title 'in use at end', \
         f using 0:4:(sprintf('%.0f%%', $3 > 0 ? 100.0 * $4 / $3 : 0)) with labels offset 0, 0.8 notitle
} else {
    plot f using 0:4:xtic(1) with boxes lc rgb '#1f4e79' title 'peak in use', \
         f using 0:7:(0.3) with boxes lc rgb '#ff7f0e' title 'in use at end'
}
