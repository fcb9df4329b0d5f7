FROM debian:12
RUN <<FILE1 cat > /file1 && <<FILE2 cat > /file2
I am
first
FILE1
I am
second
FILE2
COPY <<a.txt <<b.txt /dest/
alpha
a.txt
beta
b.txt
RUN 3<<EOF cat /dev/fd/3
fd three
EOF
