upper bench|BENCH
rev abc|cba
nope|usage: app greet|add|mul|upper|rev|version [args]
