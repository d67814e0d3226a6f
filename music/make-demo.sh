#!/usr/bin/env bash
# Synthesizes Tapedeck's demo library: four short original pieces by "The Loopback Quartet",
# made from plucked strings, soft pads, bass and light drums with sox, then encoded with ffmpeg
# to mp3, flac, ogg vorbis and wav with title, artist and album tags.
#
# Usage: music/make-demo.sh [OUT_DIR]   (default: the directory of this script)
# Needs: sox, ffmpeg (Debian packages sox, ffmpeg). Deterministic apart from the noise of the
# hi-hats, which sox seeds at random.
set -euo pipefail
export SOX_OPTS=--no-show-progress

out=$(cd "${1:-$(dirname "$0")}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

ARTIST="The Loopback Quartet"
ALBUM="Demo Tape"
SR=44100

# A silent stretch of $2 seconds in $1.
rest() { sox -q -n -r $SR -c 1 -b 16 "$1" trim 0 "$2"; }

# A plucked note: file, semitones from A4, seconds.
pluck() {
  sox -q -n -r $SR -c 1 -b 16 "$1" synth "$3" pluck "%$2" lowpass 3200 fade 0 "$3" 0.04 gain -2
}

# A soft pad chord: file, seconds, semitones from A4...
pad() {
  local f=$1 d=$2; shift 2
  local specs=() n=0
  for s in "$@"; do specs+=(sine "%$s"); n=$((n + 1)); done
  sox -q -r $SR -c "$n" -n -b 16 -c 1 "$f" synth "$d" "${specs[@]}" remix - \
    tremolo 0.3 20 fade 0.4 "$d" 0.6 gain -18
}

# A round bass note: file, semitones from A4, seconds.
bass() {
  sox -q -r $SR -c 2 -n -b 16 -c 1 "$1" synth "$3" sine "%$2" triangle "%$2" remix - \
    overdrive 4 lowpass 400 fade 0.005 "$3" 0.08 gain -8
}

# One bar of drums: file, seconds per beat, pattern (k kick, s snare, h hat, . rest) in 8ths.
drums() {
  local f=$1 beat=$2 pattern=$3 step parts=() i=0
  step=$(echo "$beat / 2" | bc -l)
  for ((i = 0; i < ${#pattern}; i++)); do
    local p="d$i.wav"
    case "${pattern:i:1}" in
      k) sox -q -n -r $SR -c 1 -b 16 "$p" synth "$step" sine 110:40 fade 0 "$step" "$step" gain -3 ;;
      s) sox -q -n -r $SR -c 1 -b 16 "$p" synth "$step" pinknoise bandpass 1800 1.2q \
           fade 0 "$step" "$step" gain -6 ;;
      h) sox -q -n -r $SR -c 1 -b 16 "$p" synth 0.05 whitenoise gain -12 highpass 7000 fade 0 0.05 0.045 \
           pad 0 "$(echo "$step - 0.05" | bc -l)" gain -16 ;;
      *) rest "$p" "$step" ;;
    esac
    parts+=("$p")
  done
  sox -q "${parts[@]}" "$f"
}

# Concatenates files $2... into $1.
join() { local f=$1; shift; sox -q "$@" "$f"; }

# Renders one piece.
#   piece NAME BEAT BARS_PER_PASS PASSES ARP DRUMS MELODY
# with CHORDS set to one quoted chord per bar (semitones from A4, root first), ARP an index
# pattern into the chord (one per 8th, a trailing + meaning an octave up), DRUMS a pattern or
# "", and MELODY a list of "semitone:eighths" (r for a rest) played over passes after the first.
piece() {
  local name=$1 beat=$2 passes=$3 arp=$4 drum=$5 melody=$6
  local eighth bar arps=() pads=() basses=() beats=() b=0
  eighth=$(echo "$beat / 2" | bc -l)
  bar=$(echo "$beat * 4" | bc -l)
  for chord in "${CHORDS[@]}"; do
    read -ra tones <<<"$chord"
    local notes=() i=0
    for idx in $arp; do
      local up=0 k=${idx%+}
      [[ $idx == *+ ]] && up=12
      pluck "a$b-$i.wav" $((tones[k] + 12 + up)) "$eighth"
      notes+=("a$b-$i.wav"); i=$((i + 1))
    done
    join "arp$b.wav" "${notes[@]}"
    pad "pad$b.wav" "$bar" "${tones[@]}"
    local q=0 qs=()
    for q in 0 1 2 3; do
      bass "b$b-$q.wav" $((tones[0] - 12)) "$beat"
      qs+=("b$b-$q.wav")
    done
    join "bass$b.wav" "${qs[@]}"
    arps+=("arp$b.wav"); pads+=("pad$b.wav"); basses+=("bass$b.wav")
    b=$((b + 1))
  done
  join arp1.wav "${arps[@]}"; join pad1.wav "${pads[@]}"; join bass1.wav "${basses[@]}"
  local all_arp=() all_pad=() all_bass=()
  for ((p = 0; p < passes; p++)); do
    all_arp+=(arp1.wav); all_pad+=(pad1.wav); all_bass+=(bass1.wav)
  done
  join arp.wav "${all_arp[@]}"; join padl.wav "${all_pad[@]}"; join bassl.wav "${all_bass[@]}"
  local layers=(-v 0.45 arp.wav -v 0.5 padl.wav -v 0.4 bassl.wav)
  if [[ -n $drum ]]; then
    drums bar.wav "$beat" "$drum"
    local bars=() total=$((passes * ${#CHORDS[@]}))
    for ((p = 0; p < total; p++)); do bars+=(bar.wav); done
    join drum.wav "${bars[@]}"
    layers+=(-v 0.35 drum.wav)
  fi
  if [[ -n $melody ]]; then
    local mel=() m=0
    rest m-intro.wav "$(echo "$bar * ${#CHORDS[@]}" | bc -l)"
    mel+=(m-intro.wav)
    for ((p = 1; p < passes; p++)); do
      for n in $melody; do
        local d
        d=$(echo "$eighth * ${n#*:}" | bc -l)
        if [[ ${n%%:*} == r ]]; then rest "m$m.wav" "$d"; else
          sox -q -n -r $SR -c 1 -b 16 "m$m.wav" synth "$d" triangle "%${n%%:*}" \
            fade 0.01 "$d" 0.12 gain -9
        fi
        mel+=("m$m.wav"); m=$((m + 1))
      done
    done
    join mel.wav "${mel[@]}"
    layers+=(-v 0.45 mel.wav)
  fi
  sox -q -m "${layers[@]}" -c 2 "song-$name.wav" reverb 35 50 80 gain -n -1 fade 0 -0 2.5
  rm -f a*-*.wav b*-*.wav d*.wav m*.wav arp[0-9]*.wav pad[0-9]*.wav bass[0-9]*.wav
}

# Encodes $1.wav to $2 with tags; extra ffmpeg arguments follow.
encode() {
  local src=$1 dst=$2 title=$3; shift 3
  ffmpeg -nostdin -loglevel error -y -i "song-$src.wav" -map_metadata -1 \
    -metadata title="$title" -metadata artist="$ARTIST" -metadata album="$ALBUM" \
    "$@" "$out/$dst"
}

# 1. Morning Tape: C major, a bright pluck arpeggio over Cmaj7 Am7 Fmaj7 G6, 96 bpm.
CHORDS=("-9 -5 -2 2" "-12 -9 -5 -2" "-16 -12 -9 -5" "-14 -10 -7 -5")
piece morning 0.625 3 "0 1 2 3 2+ 1 2 1" "k.h.sh.hk.h.sh.h" \
  "3:2 5:1 7:1 10:3 r:1 8:2 7:2 5:2 3:2 5:1 3:1 0:4 r:4 7:2 8:2 10:2 12:2 10:2 8:2 7:4"
encode morning "01 Morning Tape.mp3" "Morning Tape" -c:a libmp3lame -b:a 192k

# 2. Night Drive: A minor, Am F C G with a driving kick, 112 bpm.
CHORDS=("-12 -9 -5" "-16 -12 -9" "-21 -17 -14" "-14 -10 -7")
piece night 0.536 3 "0 1 2 1+ 0+ 2 1 2" "khkhskhkkhkhskhh" \
  "0:3 3:1 7:2 5:2 3:4 r:2 0:2 -2:3 0:1 3:2 5:2 7:6 r:2"
encode night "02 Night Drive.flac" "Night Drive" -c:a flac

# 3. Paper Boats: D major pentatonic, no drums, 84 bpm.
CHORDS=("-7 -3 0" "-12 -7 -3" "-10 -5 -3" "-5 -1 2")
piece boats 0.714 3 "0 2 1 2+ 0+ 2 1 2" "" \
  "5:2 7:2 9:4 12:2 9:2 7:4 5:2 2:2 5:4 r:4 9:2 12:2 14:4 12:2 9:2 7:4"
encode boats "03 Paper Boats.ogg" "Paper Boats" -c:a libvorbis -q:a 5

# 4. Small Hours: E minor, slow and quiet, mono 22.05 kHz (a small wav).
CHORDS=("-5 -2 2 5" "-9 -5 -2 2" "-4 0 3 7" "-7 -3 0 5")
piece hours 0.857 3 "0 1 2 3 2 1 0 1" "" ""
encode hours "04 Small Hours.wav" "Small Hours" -ac 1 -ar 22050 -c:a pcm_s16le

ls -l "$out"
