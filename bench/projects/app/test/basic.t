greet world|hello, world
greet|hello, world
add 2 3|5
mul 6 7|42
version|app 1.4.2
