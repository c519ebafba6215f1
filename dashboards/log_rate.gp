# Log message rate per port: lines per second over host time (the log lines
# carry only the host's arrival time).
# Input: log_rate.csv (t_s, one column of lines/s per port).
if (ARGC < 2) { print 'usage: gnuplot -c '.ARG0.' DATA_DIR OUT.png|OUT.svg'; exit status 2 }
data = ARG1
out = ARG2
dir = ARG0  # this script's directory, where style.gp is
while (strlen(dir) > 0 && dir[strlen(dir):strlen(dir)] ne '/') { dir = dir[1:strlen(dir) - 1] }
load dir.'style.gp'
f = data.'/log_rate.csv'

set title 'Log lines per second, per port. '.session_title
set xlabel log_time_label
set ylabel 'lines / s'
set yrange [0:*]
plot for [i=2:1 + log_ports] f using 1:i with steps lw 2 lc rgb colour(i - 1) title columnhead(i)
