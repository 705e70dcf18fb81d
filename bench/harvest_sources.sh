#!/usr/bin/env bash
# The PDFs that `ocrkit data harvest` may use (../shared/DESIGN.md, "Data you may use"), split
# deterministically by whole PDF into TRAIN and HELD-OUT. Benchmarks use HELD-OUT only; training never
# does. Only the allowed Debian packages that are installed on this machine are listed.
#
#   bench/harvest_sources.sh            # "SPLIT<TAB>PACKAGE<TAB>PATH" for every PDF, TRAIN then HELD-OUT
#   bench/harvest_sources.sh train      # paths of the TRAIN PDFs, one per line
#   bench/harvest_sources.sh heldout    # paths of the HELD-OUT PDFs, one per line
#   bench/harvest_sources.sh summary    # counts per package and split
#
# Paths are canonical (symlinks resolved, each file once).
# Split rule (stable across machines, independent of which packages are installed):
#   - every PDF of a package in HELDOUT_PACKAGES is held out (a whole typesetting style never seen);
#   - otherwise a PDF is held out when the first 8 hex digits of sha256(PATH) are 0 mod 10.
# Languages: debian-refcard, installation-guide-amd64 and gnucash-docs are English only (DESIGN.md).
set -euo pipefail
mode=${1:-all}

ALLOWED=(texlive-latex-extra-doc texlive-publishers-doc texlive-fonts-extra-doc texlive-latex-base-doc
  texlive-latex-recommended-doc texlive-humanities-doc texlive-pictures-doc r-doc-pdf linuxcnc-doc-en
  installation-guide-amd64 erlang-doc gnucash-docs pari-doc octave-doc gap-doc lilypond-doc-pdf debmake-doc
  packaging-tutorial debian-history xorg-docs groff graphviz-doc glpk-doc debian-refcard)
HELDOUT_PACKAGES=" debian-history glpk-doc "

english_only() {  # package path -> 0 when the PDF may be used
  case "$1" in
    debian-refcard) [[ "$2" == *refcard-en-* ]] ;;
    installation-guide-amd64) [[ "$2" == */en/* || "$2" == *.en.* || "$2" == *-en.* ]] ;;
    gnucash-docs) [[ "$2" == */C/* || "$2" == */en/* || "$2" == *-C.* || "$2" == *_C.* ]] ;;
    *) return 0 ;;
  esac
}

rows=()
declare -A seen  # symlinks (r-doc-pdf links /usr/share/doc/... to /usr/share/R/doc/...) count once
for pkg in "${ALLOWED[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || continue
  while IFS= read -r f; do
    [[ -f "$f" ]] || continue
    f=$(readlink -f "$f")
    [[ -z "${seen[$f]:-}" ]] || continue
    seen[$f]=1
    english_only "$pkg" "$f" || continue
    if [[ "$HELDOUT_PACKAGES" == *" $pkg "* ]]; then
      split=HELD-OUT
    else
      h=$(printf '%s' "$f" | sha256sum | cut -c1-8)
      if (( 16#$h % 10 == 0 )); then split=HELD-OUT; else split=TRAIN; fi
    fi
    rows+=("$split"$'\t'"$pkg"$'\t'"$f")
  done < <(dpkg -L "$pkg" 2>/dev/null | grep -E '\.[pP][dD][fF](\.gz)?$' | sort -u)
done

print_rows() { printf '%s\n' "${rows[@]}" | LC_ALL=C sort -t$'\t' -k1,1r -k2,2 -k3,3; }
case "$mode" in
  all) print_rows ;;
  train) print_rows | awk -F'\t' '$1=="TRAIN"{print $3}' ;;
  heldout) print_rows | awk -F'\t' '$1=="HELD-OUT"{print $3}' ;;
  summary) print_rows | awk -F'\t' '{n[$2"\t"$1]++; t[$1]++} END{for(k in n) print k"\t"n[k]; for(s in t) print "total\t"s"\t"t[s]}' | sort ;;
  *) echo "usage: $0 [all|train|heldout|summary]" >&2; exit 2 ;;
esac
