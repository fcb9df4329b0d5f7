FROM debian:12
RUN <<-EOT
		apt-get install -y \
			git
		EOT
RUN <<-EOT bash
	echo EOT not the end
  EOT
	EOT
