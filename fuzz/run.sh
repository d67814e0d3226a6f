#!/usr/bin/env bash
# Runs every fuzz target for a bounded time each (default 60 s; the target is 600 s).
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). A crash leaves its
# input in fuzz/artifacts/<target>/; each one becomes a regression test before it is fixed.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2
# The decoder starts from real audio: the demo songs' first 64 KiB, after a chunk-size byte.
mkdir -p corpus/decoder
for song in ../music/*.mp3 ../music/*.flac ../music/*.ogg ../music/*.wav; do
  { printf '\x40'; head -c 65536 "$song"; } > "corpus/decoder/$(basename "$song").seed"
done
# And from short mp4 files (the page's own demuxer): AAC with its index first, fragmented,
# and ALAC, made with ffmpeg where it is installed.
if command -v ffmpeg >/dev/null; then
  for pair in "aac +faststart" "aac frag_keyframe+empty_moov" "alac +faststart"; do
    set -- $pair
    ffmpeg -v error -y -f lavfi -i sine=frequency=440:duration=1 -c:a "$1" -movflags "$2" \
      -f mp4 "corpus/decoder/tone-$1-${2//[^a-z]/}.m4a.tmp"
    { printf '\x40'; cat "corpus/decoder/tone-$1-${2//[^a-z]/}.m4a.tmp"; } \
      > "corpus/decoder/tone-$1-${2//[^a-z]/}.m4a.seed"
    rm "corpus/decoder/tone-$1-${2//[^a-z]/}.m4a.tmp"
  done
  # And the page's own Ogg, FLAC and AIFF demuxers: Opus and FLAC in Ogg, AIFF-C.
  for pair in "libopus opus" "flac oga" "pcm_s16le aifc"; do
    set -- $pair
    ffmpeg -v error -y -f lavfi -i sine=frequency=440:duration=1 -c:a "$1" \
      "corpus/decoder/tone.$2"
    { printf '\x40'; cat "corpus/decoder/tone.$2"; } > "corpus/decoder/tone.$2.seed"
    rm "corpus/decoder/tone.$2"
  done
  # And surround Opus (several streams in each packet).
  ffmpeg -v error -y -f lavfi -i "aevalsrc=sin(300*2*PI*t)|sin(400*2*PI*t)|sin(500*2*PI*t)|0|0|0:c=5.1:d=1" \
    -c:a libopus corpus/decoder/surround.opus
  { printf '\x40'; cat corpus/decoder/surround.opus; } > corpus/decoder/surround.opus.seed
  rm corpus/decoder/surround.opus
fi
# The container parsers start from the same songs, after a format byte and a chunk-size byte.
mkdir -p corpus/media
for pair in "0 mp3" "2 flac" "3 ogg" "4 wav"; do
  set -- $pair
  for song in ../music/*."$2"; do
    { printf "\\x0$1\\x40"; head -c 65536 "$song"; } > "corpus/media/$(basename "$song").seed"
  done
done
# And the mp4 seeds of the decoder, as format 6 (mp4).
for seed in corpus/decoder/*.m4a.seed; do
  [ -e "$seed" ] || continue
  { printf '\x06'; cat "$seed"; } > "corpus/media/$(basename "$seed")"
done
for target in $(cargo +nightly fuzz list); do
  echo "== $target: ${seconds} s"
  # -O: overflow checks as fuzz/Cargo.toml sets them (Tapedeck's code on, symphonia's off).
  cargo +nightly fuzz run -O "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048
done
