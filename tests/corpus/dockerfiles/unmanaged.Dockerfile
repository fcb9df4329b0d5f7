FROM python:3.12-alpine
RUN curl -fsSL https://get.example.com/install.sh | sh
RUN wget -qO- https://example.org/setup | bash -s -- --yes
RUN sh -c "$(curl -fsSL https://raw.example.com/install.sh)"
RUN pip install requests
RUN pip install --require-hashes -r requirements.txt
RUN python3 -m pip install flask==3.0.0
RUN apk add --no-cache git
RUN apk --no-cache add openssl
