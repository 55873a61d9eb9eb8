#!/usr/bin/env bash
# Builds a bootable Debian 12 image of one ARM architecture for the lab:
# the package set of Raspberry Pi OS Lite (systemd, libpam-systemd, dbus,
# sudo, openssh-server, zstd), a user pi with passwordless sudo and
# lingering on, and root login by key.
#
#   scripts/lab/image.sh arm64|armhf     prints the image's directory
#
# The image is cached outside the repository, under
# ${ARMBENCH_LAB_CACHE:-${XDG_CACHE_HOME:-~/.cache}/armbench-lab}/<arch>-<recipe>,
# where <recipe> is a hash of scripts/lab/recipe.sh: change the recipe and
# the next run builds a new image. The directory holds:
#   disk.qcow2        the root file system (boot it through an overlay)
#   vmlinuz initrd    the kernel and initramfs, booted directly (no firmware)
#   id_ed25519        the key root and pi accept
#   host_ed25519.pub  the image's host key, for known_hosts
#   boot              the qemu-system command line, one word per line
# A second run for the same image waits for the first (a lock) and then
# finds it, so CI can start the builds early and the tests just wait.
# Needs: debootstrap, qemu-user-static with binfmt_misc, qemu-utils,
# e2fsprogs, ssh-keygen; runs as root.
set -euo pipefail
arch=${1:?usage: image.sh arm64|armhf}
case $arch in
arm64 | armhf) ;;
*) echo "image.sh: unknown architecture $arch (want arm64 or armhf)" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
recipe=$(sha256sum "$here/recipe.sh" | cut -c1-16)
cache=${ARMBENCH_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/armbench-lab}
out=$cache/$arch-$recipe
mkdir -p "$cache"
exec 9>"$cache/.lock-$arch"
flock 9
if [ -f "$out/done" ]; then
	echo "$out"
	exit 0
fi
for tool in debootstrap qemu-img mkfs.ext4 ssh-keygen; do
	command -v "$tool" >/dev/null || { echo "image.sh: $tool is missing (apt-get install debootstrap qemu-utils e2fsprogs openssh-client)" >&2; exit 1; }
done
qarch=aarch64
[ "$arch" = armhf ] && qarch=arm
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-$qarch ]; then
	echo "image.sh: binfmt_misc has no qemu-$qarch entry: install qemu-user-static and register it (.ci/run does)" >&2
	exit 1
fi

# The mirror is the one this host's apt uses: the lab is built from the
# same place as the host's own packages.
mirror=${ARMBENCH_LAB_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2; exit}')
fi
if [ -z "$mirror" ]; then
	mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2; exit}')
fi
[ -n "$mirror" ] || { echo "image.sh: no Debian mirror in this host's apt sources; set ARMBENCH_LAB_MIRROR" >&2; exit 1; }

work=$(mktemp -d "$cache/.build-$arch-XXXXXX")
trap 'umount "$work/root/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
echo "image.sh: building $arch image from $mirror (log: $work/log)" >&2
start=$SECONDS

bash "$here/recipe.sh" "$arch" "$work" "$mirror"

tmp=$out.tmp-$$
mv "$work" "$tmp"
rm -rf "$tmp/root"
touch "$tmp/done"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "image.sh: $arch image built in $((SECONDS - start)) s" >&2
echo "$out"
