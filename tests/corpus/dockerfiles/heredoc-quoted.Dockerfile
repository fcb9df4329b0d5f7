FROM debian:12
RUN <<'EOF'
echo "$HOME stays"
EOF
RUN <<"END" sh -e
echo $PATH
END
RUN <<\RAW
echo raw
RAW
