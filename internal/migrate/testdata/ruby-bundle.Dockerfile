# A Sinatra app on Debian's own Ruby: apt-get installs the interpreter, bundle install the gems.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ruby ruby-bundler && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY Gemfile Gemfile.lock ./
RUN bundle install
COPY . .
EXPOSE 4567
CMD ["ruby", "app.rb"]
