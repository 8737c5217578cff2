FROM golang:1.23
WORKDIR /src
COPY . .
RUN go build -o /server .
CMD ["/server"]
