#!/usr/bin/env bash
# Gets Debian's Linux kernels and builds one initramfs per architecture, into a cache outside
# the repository (default ~/.cache/resetvector/debian; RESETVECTOR_CACHE overrides the
# ~/.cache/resetvector part). Idempotent: a kernel or initramfs already in the cache is kept,
# and the packages are downloaded only when something is missing.
#
#   Tools/guests/fetch-debian.sh            # both kernels
#   Tools/guests/fetch-debian.sh amd64      # only the 64-bit cloud kernel
#   Tools/guests/fetch-debian.sh i386       # only the 32-bit 686-pae kernel
#
# What it leaves, per architecture (amd64, i386):
#   $cache/debian/ARCH/vmlinuz             the bzImage
#   $cache/debian/ARCH/initramfs.cpio.gz   busybox-static and an /init script (below)
#   $cache/debian/ARCH/version             the kernel package's name and version
#
# The kernels: the package Debian's metapackage linux-image-cloud-amd64 (64-bit) or
# linux-image-686-pae:i386 (32-bit, which needs dpkg's i386 architecture; added here) depends
# on, downloaded with `apt-get download` and unpacked with `dpkg-deb -x`; busybox-static (and
# busybox-static:i386) likewise.
#
# The initramfs's /init (busybox sh) mounts proc, sys and devtmpfs, loads the modules
# rv.modules= names (a comma list, in order, from the kernel's own: watchdog, i6300esb, pvpanic,
# pvpanic-mmio; Debian builds those drivers as modules, and the cloud kernel has no i6300esb), prints the watchdog's boot status when
# there is a watchdog (RESETVECTOR-WATCHDOG-BOOTSTATUS n: 32 is WDIOF_CARDRESET, the last reset
# was the watchdog's), prints the marker RESETVECTOR-INIT-OK on the console, then does what the
# kernel command line's rv.action= asks:
#   reboot   → reboot -f        poweroff → poweroff -f      halt → halt -f
#   panic    → echo c > /proc/sysrq-trigger
#   watchdog → busybox watchdog feeds /dev/watchdog (2 s timeout) for 3 s, then is killed with
#              SIGKILL (no magic close), so nothing feeds it any more
#   shell    → an interactive shell on the console (also the default when rv.action= is absent)
# so one initramfs serves every path. $cache/ARCH/initramfs.revision records the revision of
# this layout; an older cache is rebuilt. The archive is written by a small Python writer (newc
# format, every mtime 0, /dev/console as a node) so building it needs no root and gives the
# same bytes every time.
set -euo pipefail

cache_root=${RESETVECTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/resetvector}
cache=$cache_root/debian
marker=RESETVECTOR-INIT-OK

say() { echo "fetch-debian: $*" >&2; }
die() { say "$*"; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "needs root for: $* (run as root or install sudo)"
    fi
}

command -v apt-get >/dev/null || die "apt-get is missing: this tool needs a Debian-style system"
command -v dpkg-deb >/dev/null || die "dpkg-deb is missing"
command -v python3 >/dev/null || die "python3 is missing (it writes the initramfs archive)"
command -v gzip >/dev/null || die "gzip is missing"

arches=("$@")
if [ ${#arches[@]} = 0 ]; then arches=(amd64 i386); fi
for arch in "${arches[@]}"; do
    case $arch in amd64|i386) ;; *) die "unknown architecture '$arch' (amd64 or i386)";; esac
done

# The initramfs layout's revision: raise it when /init or the archive's contents change.
initramfs_revision=2
complete() {
    [ -s "$cache/$1/vmlinuz" ] && [ -s "$cache/$1/initramfs.cpio.gz" ] && [ -s "$cache/$1/version" ] &&
        [ "$(cat "$cache/$1/initramfs.revision" 2>/dev/null)" = "$initramfs_revision" ]
}

missing=()
for arch in "${arches[@]}"; do complete "$arch" || missing+=("$arch"); done
if [ ${#missing[@]} = 0 ]; then
    for arch in "${arches[@]}"; do say "$arch: cached: $(cat "$cache/$arch/version") in $cache/$arch"; done
    exit 0
fi

updated=false
apt_update() {
    if ! $updated; then as_root apt-get update -qq; updated=true; fi
}

# The kernel package a metapackage depends on (linux-image-6.1.0-N-FLAVOUR), or, when the
# metapackage is unknown, the highest version apt-cache lists for the flavour.
kernel_package() {
    local meta=$1 flavour=$2 dep
    dep=$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*\).*/\1/p' | head -n1)
    if [ -z "$dep" ]; then
        dep=$(apt-cache search --names-only "^linux-image-[0-9.]+-[0-9]+-$flavour\$" | awk '{print $1}' | sort -V | tail -n1)
    fi
    echo "$dep"
}

for arch in "${missing[@]}"; do
    if [ "$arch" = i386 ] && ! dpkg --print-foreign-architectures | grep -qx i386 && [ "$(dpkg --print-architecture)" != i386 ]; then
        say "adding dpkg's i386 architecture"
        as_root dpkg --add-architecture i386
        updated=false
    fi
done
apt_update

work=$(mktemp -d "${TMPDIR:-/tmp}/fetch-debian.XXXXXX")
trap 'rm -rf "$work"' EXIT
# apt-get download as root drops to the _apt user, which must be able to write here.
chmod 0777 "$work"

for arch in "${missing[@]}"; do
    if [ "$arch" = amd64 ]; then
        package=$(kernel_package linux-image-cloud-amd64 cloud-amd64)
        busybox=busybox-static:amd64
        [ -n "$package" ] || die "apt-cache lists no linux-image-*-cloud-amd64 package"
    else
        package=$(kernel_package linux-image-686-pae:i386 686-pae)
        busybox=busybox-static:i386
        [ -n "$package" ] || die "apt-cache lists no linux-image-*-686-pae package"
        package=${package%:i386}:i386
    fi
    say "$arch: downloading $package and $busybox"
    dir=$work/$arch
    mkdir -p "$dir/debs" "$dir/kernel" "$dir/busybox"
    chmod 0777 "$dir/debs"
    (cd "$dir/debs" && apt-get download -qq "$package" "$busybox") || die "$arch: apt-get download failed"
    kernel_deb=$(ls "$dir"/debs/linux-image-*.deb)
    busybox_deb=$(ls "$dir"/debs/busybox-static_*.deb)
    dpkg-deb -x "$kernel_deb" "$dir/kernel"
    dpkg-deb -x "$busybox_deb" "$dir/busybox"
    vmlinuz=$(ls "$dir"/kernel/boot/vmlinuz-* | head -n1)
    [ -s "$vmlinuz" ] || die "$arch: no /boot/vmlinuz-* in $kernel_deb"
    [ -x "$dir/busybox/bin/busybox" ] || die "$arch: no /bin/busybox in $busybox_deb"

    root=$dir/root
    mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/root" "$root/lib/modules"
    cp "$dir/busybox/bin/busybox" "$root/bin/busybox"
    # The cloud kernel is built without the i6300esb driver (CONFIG_I6300ESB_WDT unset).
    for module in watchdog/watchdog watchdog/i6300esb misc/pvpanic/pvpanic misc/pvpanic/pvpanic-mmio; do
        for ko in "$dir"/kernel/lib/modules/*/kernel/drivers/$module.ko; do
            if [ -s "$ko" ]; then cp "$ko" "$root/lib/modules/"; fi
        done
    done
    cat >"$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox mkdir -p /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
action=shell
modules=
for word in \$(cat /proc/cmdline); do
    case \$word in
        rv.action=*) action=\${word#rv.action=};;
        rv.modules=*) modules=\$(echo \${word#rv.modules=} | tr , ' ');;
    esac
done
for module in \$modules; do insmod /lib/modules/\$module.ko || echo "RESETVECTOR-INSMOD-FAILED \$module"; done
if [ -e /sys/class/watchdog/watchdog0/bootstatus ]; then
    echo "RESETVECTOR-WATCHDOG-BOOTSTATUS \$(cat /sys/class/watchdog/watchdog0/bootstatus)"
fi
echo "$marker \$(uname -r) \$(uname -m) cpus=\$(grep -c ^processor /proc/cpuinfo) action=\$action"
case \$action in
    reboot) reboot -f ;;
    poweroff) poweroff -f ;;
    halt) halt -f ;;
    panic) echo c > /proc/sysrq-trigger ;;
    watchdog)
        watchdog -F -T 2 -t 1 /dev/watchdog &
        feeder=\$!
        sleep 3
        kill -9 \$feeder
        echo "RESETVECTOR-WATCHDOG-STOPPED"
        while :; do sleep 3600; done ;;
    shell) ;;
    *) echo "RESETVECTOR-UNKNOWN-ACTION \$action" ;;
esac
echo "RESETVECTOR-SHELL"
exec setsid cttyhack sh
EOF
    chmod 0755 "$root/init"

    mkdir -p "$cache/$arch"
    python3 - "$root" "$cache/$arch/initramfs.cpio" <<'PY'
import os, stat, sys
root, out = sys.argv[1], sys.argv[2]
entries = []   # (name, mode, data, rdevmajor, rdevminor)
for dirpath, dirnames, filenames in os.walk(root):
    dirnames.sort()
    rel = os.path.relpath(dirpath, root)
    if rel != ".":
        entries.append((rel, stat.S_IFDIR | 0o755, b"", 0, 0))
    for name in sorted(filenames):
        path = os.path.join(dirpath, name)
        relname = os.path.normpath(os.path.join(rel, name))
        mode = os.lstat(path).st_mode
        with open(path, "rb") as f:
            entries.append((relname, stat.S_IFREG | (mode & 0o777), f.read(), 0, 0))
entries.append(("dev/console", stat.S_IFCHR | 0o600, b"", 5, 1))
entries.append(("dev/null", stat.S_IFCHR | 0o666, b"", 1, 3))
entries.append(("dev/ttyS0", stat.S_IFCHR | 0o660, b"", 4, 64))
def pad(n): return b"\0" * ((4 - n % 4) % 4)
with open(out, "wb") as f:
    for ino, (name, mode, data, major, minor) in enumerate(entries + [("TRAILER!!!", 0, b"", 0, 0)], start=1):
        nameb = name.encode() + b"\0"
        fields = [ino if name != "TRAILER!!!" else 0, mode, 0, 0, 1 if not stat.S_ISDIR(mode) else 2, 0,
                  len(data), 0, 0, major, minor, len(nameb), 0]
        header = b"070701" + b"".join(b"%08X" % v for v in fields)
        f.write(header + nameb + pad(len(header) + len(nameb)) + data + pad(len(data)))
PY
    gzip -n -9 -f "$cache/$arch/initramfs.cpio"
    cp "$vmlinuz" "$cache/$arch/vmlinuz"
    echo "$(dpkg-deb -f "$kernel_deb" Package) $(dpkg-deb -f "$kernel_deb" Version)" >"$cache/$arch/version"
    echo "$initramfs_revision" >"$cache/$arch/initramfs.revision"
    say "$arch: $(cat "$cache/$arch/version") → $cache/$arch (vmlinuz $(stat -c %s "$cache/$arch/vmlinuz") bytes, initramfs $(stat -c %s "$cache/$arch/initramfs.cpio.gz") bytes)"
done
