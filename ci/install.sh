#!/bin/sh
# ci/install.sh VERSION [DIR]: install the enrolctl release VERSION (0.3.0 or v0.3.0)
# into DIR (default: $ENROLCTL_INSTALL_DIR, else $HOME/.local/bin), for Linux and macOS
# on amd64 and arm64. The CI templates (ci/gitlab, ci/github) install with it.
#
# It downloads the release archive and SHA256SUMS, refuses an archive whose SHA-256
# is not the one SHA256SUMS lists, and only then puts the binary in DIR: on any error
# nothing is installed. (SHA256SUMS itself is signed: docs/releasing.md says how to
# check its signature and the provenance attestations.)
#
# ENROLCTL_BASE_URL replaces where releases are downloaded from (default
# https://github.com/enrolctl/enrolctl/releases/download): a mirror, or a test server.
# It needs sh, tar, curl or wget, and sha256sum or shasum.
set -eu

die() { echo "install.sh: $*" >&2; exit 1; }

version=${1:-${ENROLCTL_VERSION:-}}
[ -n "$version" ] || die "usage: install.sh VERSION [DIR]"
version=${version#v}
case $version in
*[!0-9A-Za-z.+-]*) die "bad version '$version'" ;;
esac
dir=${2:-${ENROLCTL_INSTALL_DIR:-${HOME:?}/.local/bin}}
base=${ENROLCTL_BASE_URL:-https://github.com/enrolctl/enrolctl/releases/download}

case $(uname -s) in
Linux) os=linux ;;
Darwin) os=darwin ;;
*) die "no release for $(uname -s): use Linux or macOS, or the container image" ;;
esac
case $(uname -m) in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) die "no release for $(uname -m): use amd64 or arm64" ;;
esac
archive=enrolctl_${version}_${os}_${arch}.tar.gz

tmp=$(mktemp -d)
part=$dir/.enrolctl.$$
trap 'rm -rf "$tmp"; rm -f "$part"' EXIT
trap 'exit 1' INT TERM

fetch() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --retry 3 -o "$2" "$1" || die "could not download $1"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O "$2" "$1" || die "could not download $1"
	else
		die "needs curl or wget"
	fi
}
sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | cut -d' ' -f1
	else
		die "needs sha256sum or shasum"
	fi
}

fetch "$base/v$version/SHA256SUMS" "$tmp/SHA256SUMS"
fetch "$base/v$version/$archive" "$tmp/$archive"
want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")
[ -n "$want" ] || die "SHA256SUMS of $version lists no $archive; nothing installed"
got=$(sha256 "$tmp/$archive")
[ "$got" = "$want" ] || die "$archive: SHA-256 $got, but SHA256SUMS says $want; nothing installed"

mkdir "$tmp/x"
tar -xzf "$tmp/$archive" -C "$tmp/x" enrolctl || die "$archive holds no enrolctl"
mkdir -p "$dir"
# Install under a temporary name and rename: never a half-written enrolctl in DIR.
cp "$tmp/x/enrolctl" "$part"
chmod 755 "$part"
mv -f "$part" "$dir/enrolctl"
echo "Installed enrolctl $version ($os/$arch, SHA-256 verified) in $dir"
