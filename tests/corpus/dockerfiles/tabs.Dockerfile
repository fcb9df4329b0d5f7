FROM	debian:12	AS	build
	RUN	apt-get	install	-y	make \
		gcc
ARG	VERSION=1.2.3
RUN <<-EOF
	echo tab stripped
	EOF
