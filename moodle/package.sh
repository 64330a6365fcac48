#!/usr/bin/env bash
# moodle/package.sh VERSION OUTDIR — the plugin as Moodle administrators install it:
# OUTDIR/local_enrolctl-VERSION.zip, whose single root folder is enrolctl/ (Moodle's plugin
# installer, Site administration > Plugins > Install plugins, refuses any other root folder for
# local_enrolctl), holding moodle/local_enrolctl as it is in Git.
#
# Only files Git tracks (or would track: new, not ignored) go in, so editor and test leftovers never
# ship. A clean tree is archived from HEAD, so the same commit always gives the same bytes; with
# uncommitted changes in the plugin the working files are archived (stamped now) with a warning.
# Needs only git (the release workflow calls it the same way).
set -euo pipefail

version=${1:?usage: moodle/package.sh VERSION OUTDIR}
outdir=${2:?usage: moodle/package.sh VERSION OUTDIR}
case $version in
    */* | *' '* | '') echo "package.sh: bad version '$version'" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "$0")/.." && git rev-parse --show-toplevel)
plugin=moodle/local_enrolctl
mkdir -p "$outdir"
zip="$(cd "$outdir" && pwd)/local_enrolctl-$version.zip"

cd "$repo"
grep -q "component *= *'local_enrolctl'" "$plugin/version.php" || { echo "package.sh: $plugin/version.php is not local_enrolctl's" >&2; exit 1; }
if [ -z "$(git status --porcelain -- "$plugin")" ]; then
    tree=$(git rev-parse "HEAD:$plugin")
    date=$(git log -1 --format=%cI HEAD)
else
    echo "package.sh: warning: $plugin has uncommitted changes; packing the working files" >&2
    index=$(mktemp)
    trap 'rm -f "$index"' EXIT
    cp "$(git rev-parse --git-path index)" "$index"
    GIT_INDEX_FILE=$index git add -A -- "$plugin"
    tree=$(GIT_INDEX_FILE=$index git write-tree --prefix="$plugin/")
    date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi
# git archive stamps a bare tree with the current time; a commit object made here (fixed
# identity, HEAD's date) gives every file that date, so one commit always makes the same ZIP.
commit=$(GIT_AUTHOR_NAME=enrolctl GIT_AUTHOR_EMAIL=enrolctl@localhost GIT_AUTHOR_DATE=$date \
    GIT_COMMITTER_NAME=enrolctl GIT_COMMITTER_EMAIL=enrolctl@localhost GIT_COMMITTER_DATE=$date \
    git commit-tree "$tree" -m "local_enrolctl $version")
git archive --format=zip --prefix=enrolctl/ -o "$zip" "$commit"
echo "$zip ($(wc -c < "$zip") bytes)"
