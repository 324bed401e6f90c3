# Sourced by build-guest.sh and build-stock.sh: Debian's stock kernel,
# the package linux-image-amd64 stands for.

# The package's name (linux-image-6.1.0-NN-amd64), "" when apt knows none.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1
}

# Sets kpkg and kver, updating apt's lists once if they were cleaned.
kernel_resolve() {
	kpkg=$(kernel_package)
	if [ -z "$kpkg" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		kpkg=$(kernel_package)
	fi
	[ -n "$kpkg" ] || die "apt knows no linux-image-amd64 (apt-get update failed?)"
	kver=$(apt-cache policy "$kpkg" | sed -n 's/^ *Candidate: //p')
}

# The package unpacked into DIR/k (apt-get download, dpkg-deb -x); sets
# release, the name of its lib/modules directory.
kernel_unpack() {
	(cd "$1" && apt-get download "$kpkg=$kver" >/dev/null 2>&1) ||
		die "apt-get download $kpkg=$kver failed"
	dpkg-deb -x "$(ls "$1"/"$kpkg"_*.deb)" "$1/k"
	release=$(ls "$1/k/lib/modules")
}

# The files (under MODDIR, as modules.dep names them) of the modules
# NAMES and of every one they depend on, one a line, sorted. MODDIR is an
# unpacked lib/modules/RELEASE, depmod run on it.
kernel_closure() {
	_dir=$1
	shift
	awk -v want="$(echo "$@" | tr ' ' '\n' | tr - _)" '
	BEGIN { n = split(want, w, "\n"); for (i = 1; i <= n; i++) wanted[w[i]] = 1 }
	{
		path = $1; sub(/:$/, "", path)
		name = path; sub(/.*\//, "", name); sub(/\.ko.*$/, "", name); gsub(/-/, "_", name)
		file[name] = path
		deps[name] = ""
		for (i = 2; i <= NF; i++) { d = $i; sub(/.*\//, "", d); sub(/\.ko.*$/, "", d); gsub(/-/, "_", d); deps[name] = deps[name] " " d }
	}
	function take(m,   k, n, a) {
		if (m in taken || !(m in file)) return
		taken[m] = 1; print file[m]
		n = split(deps[m], a, " ")
		for (k = 1; k <= n; k++) take(a[k])
	}
	END { for (m in wanted) { if (!(m in file)) missing = missing " " m; take(m) }
	      if (missing != "") print "not modules of this kernel (built in?):" missing > "/dev/stderr" }
' "$_dir/modules.dep" | sort -u
}

# The modules listed in FILE (paths under MODDIR) copied into ROOT's
# lib/modules/RELEASE, with the kernel's lists of built-in modules, and
# their modules.dep and modules.alias written for modprobe.
kernel_install() {
	while read -r _m; do
		mkdir -p "$3/lib/modules/$4/$(dirname "$_m")"
		cp "$1/$_m" "$3/lib/modules/$4/$_m"
	done <"$2"
	for _f in modules.builtin modules.builtin.modinfo modules.order; do
		cp "$1/$_f" "$3/lib/modules/$4/"
	done
	depmod -b "$3" "$4"
}
