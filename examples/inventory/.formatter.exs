# stream_data is a test-only dependency, so its formatter settings cannot be
# pulled in with :import_deps outside the test env; keep `check all` paren-less.
[
  inputs: ["{mix,.formatter}.exs", "{config,lib,test}/**/*.{ex,exs}"],
  locals_without_parens: [check: 1, check: 2, all: :*, property: 1, property: 2]
]
