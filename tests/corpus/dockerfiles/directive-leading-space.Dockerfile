  # escape=`
	# syntax = docker/dockerfile:1  
FROM busybox:1.36 `
  AS tiny
RUN echo a \b `
  c
