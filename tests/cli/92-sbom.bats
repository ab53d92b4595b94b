#!/usr/bin/env bats
# SBOMs: every build stores an SPDX 2.3 and a CycloneDX 1.5 document of its
# layer as OCI 1.1 artifacts referring to the image (index.json: the image,
# then one nested index of its referrers), and `smith sbom` prints them.
# Checked with CycloneDX's official schema through python3-jsonschema, an
# SPDX 2.3 checker (sbom-check.py: no package here ships SPDX's schema),
# sha256sum over the unpacked layer, oci-image-tool, umoci and skopeo.

load helpers/common

# Debian's python, which has python3-jsonschema (pyenv's may shadow it)
CHECK="${SCHEMA_PYTHON:-/usr/bin/python3} $HELPERS/sbom-check.py"

setup() {
        common_setup
        write_cat_example
}
teardown() { common_teardown; }

build() {
        run "$SMITH" "$@"
        assert_status 0
}

# sbom FORMAT [IMAGE]: the document into $FORMAT.json
sbom() {
        run "$SMITH" sbom -f "$1" "${2:-image.tar.gz}"
        assert_status 0
        printf '%s\n' "$output" >"$1.json"
}

# unpack_layer IMAGE DIR: the image's top layer (smith's) extracted into DIR
unpack_layer() {
        local layer
        layer=$($OCI layers "$1" | tail -n1)
        mkdir -p "$2"
        tar -xzOf "$1" "blobs/sha256/${layer#sha256:}" | tar -C "$2" -xzf -
}

# expected_files DIR: "/path sha256" of every regular file below DIR, sorted
expected_files() {
        (cd "$1" && find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0r sha256sum) |
                awk '{ print "/" $2, $1 }'
}

@test "index.json: the image, then one nested index of the artifacts referring to it" {
        SOURCE_DATE_EPOCH=1700000000 build -b 7
        run $OCI index image.tar.gz
        assert_status 0
        local idx=$output man
        [ "$(jq '.manifests | length' <<<"$idx")" = 2 ]
        [ "$(jq -r '.manifests[0].mediaType' <<<"$idx")" = application/vnd.oci.image.manifest.v1+json ]
        [ "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' <<<"$idx")" = latest ]
        man=$(jq -r '.manifests[0].digest' <<<"$idx")
        [ "$(jq -r '.manifests[1].mediaType' <<<"$idx")" = application/vnd.oci.image.index.v1+json ]
        [ "$(jq -c '.manifests[1].annotations' <<<"$idx")" = "{\"vnd.smith.referrers\":\"$man\"}" ]
        run $OCI referrers image.tar.gz
        assert_status 0
        [ "$(jq -c '[.manifests[].artifactType]' <<<"$output")" = \
                '["application/vnd.smith.spec+json","application/vnd.smith.provenance+json","application/spdx+json","application/vnd.cyclonedx+json"]' ]
        [ "$(jq -c '[.manifests[].mediaType] | unique' <<<"$output")" = '["application/vnd.oci.image.manifest.v1+json"]' ]
        [ "$(jq -c '[.manifests[].annotations] | unique' <<<"$output")" = \
                '[{"com.oracle.smith.build":"7","org.opencontainers.image.created":"2023-11-14T22:13:20Z"}]' ]
        # each artifact: empty config, its document as the one layer, the image as subject
        run $OCI verify image.tar.gz
        assert_status 0
        local spdx
        run $OCI referrers image.tar.gz
        spdx=$(jq -r '.manifests[] | select(.artifactType == "application/spdx+json") | .digest' <<<"$output")
        run bash -c "tar -xzOf image.tar.gz blobs/sha256/${spdx#sha256:}"
        assert_status 0
        [ "$(jq -c '{schemaVersion, mediaType, artifactType, config, n: (.layers | length), layer: .layers[0].mediaType, subject}' <<<"$output")" = \
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"artifactType\":\"application/spdx+json\",\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2},\"n\":1,\"layer\":\"application/spdx+json\",\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$man\",\"size\":$(jq '.manifests[0].size' <<<"$idx")}}" ]
}

@test "oci-image-tool, umoci and skopeo still read the layout, and smith inspect its provenance" {
        build
        mkdir layout
        tar -C layout -xzf image.tar.gz
        run oci-image-tool validate --type image --ref name=latest layout
        assert_status 0
        run umoci ls --layout layout
        assert_status 0
        [ "$output" = latest ]
        umoci unpack --rootless --image layout:latest bundle >/dev/null
        cmp bundle/rootfs/usr/bin/cat /usr/bin/cat
        run skopeo inspect oci:layout:latest
        assert_status 0
        [ "$(jq -r .Digest <<<"$output")" = "$($OCI index image.tar.gz | jq -r '.manifests[0].digest')" ]
        run skopeo copy oci:layout:latest oci:copy:latest
        assert_status 0
        run "$SMITH" inspect --json image.tar.gz /usr/bin/cat
        assert_status 0
        [ "$(jq -r '.[0].reason.kind' <<<"$output")" = pattern ]
}

@test "both documents validate: CycloneDX against its schema, SPDX against 2.3's rules" {
        build
        sbom spdx
        sbom cyclonedx
        run $CHECK spdx spdx.json
        assert_status 0
        run $CHECK cyclonedx cyclonedx.json
        assert_status 0
        [ "$(jq -r .spdxVersion spdx.json)" = SPDX-2.3 ]
        [ "$(jq -r '.bomFormat + " " + .specVersion' cyclonedx.json)" = "CycloneDX 1.5" ]
}

@test "every regular file of the layer is listed once with its SHA-256 (and SHA-1 in SPDX)" {
        build
        unpack_layer image.tar.gz layer
        expected_files layer >want
        [ "$(grep -c '' want)" -gt 3 ]
        sbom spdx
        sbom cyclonedx
        jq -r '.files[] | .fileName + " " + (.checksums[] | select(.algorithm == "SHA256") | .checksumValue)' \
                spdx.json | LC_ALL=C sort >got
        diff want got
        jq -r '.files[] | .fileName + " " + (.checksums[] | select(.algorithm == "SHA1") | .checksumValue)' \
                spdx.json | LC_ALL=C sort >got1
        (cd layer && find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0r sha1sum) |
                awk '{ print "/" $2, $1 }' | diff - got1
        jq -r '[.. | objects | select(.type? == "file")] | .[] | .name + " " + .hashes[0].content' \
                cyclonedx.json | LC_ALL=C sort >got
        diff want got
}

@test "rebuilds with the same SOURCE_DATE_EPOCH give byte-identical SBOMs" {
        export SOURCE_DATE_EPOCH=1600000000
        build
        sbom spdx
        sbom cyclonedx
        mv spdx.json spdx1.json
        mv cyclonedx.json cdx1.json
        rm -rf image.tar.gz "$XDG_CACHE_HOME"
        build
        sbom spdx
        sbom cyclonedx
        cmp spdx1.json spdx.json
        cmp cdx1.json cyclonedx.json
        [ "$(jq -r .creationInfo.created spdx.json)" = 2020-09-13T12:26:40Z ]
        [ "$(jq -r .metadata.timestamp cyclonedx.json)" = 2020-09-13T12:26:40Z ]
        # namespace and serial number come from the image manifest's digest
        local man
        man=$($OCI index image.tar.gz | jq -r '.manifests[0].digest')
        [ "$(jq -r .documentNamespace spdx.json)" = "https://smith.invalid/spdx/image/${man#sha256:}" ]
        [ "$(jq -r .serialNumber cyclonedx.json | cut -c10-17)" = "$(cut -c8-15 <<<"$man")" ]
        # and they are what the layout stores
        [ "$($OCI blob image.tar.gz application/spdx+json)" = "$(cat spdx.json)" ]
}

@test "smith sbom: -f cyclonedx, spdx by default, usage errors, an image without SBOMs" {
        build
        run "$SMITH" sbom image.tar.gz
        assert_status 0
        [ "$(jq -r .spdxVersion <<<"$output")" = SPDX-2.3 ]
        run "$SMITH" sbom --format cyclonedx image.tar.gz
        assert_status 0
        [ "$(jq -r .bomFormat <<<"$output")" = CycloneDX ]
        run "$SMITH" sbom -f xml image.tar.gz
        assert_status 2
        assert_one_error_line
        [[ "$output" == *"unknown format 'xml'"* ]]
        run "$SMITH" sbom
        assert_status 2
        run "$SMITH" sbom missing.tar.gz
        assert_status 4
        assert_one_error_line
        # the same image without its referrers: no SBOM to print
        mkdir bare
        tar -C bare -xzf image.tar.gz
        jq -c '.manifests |= .[:1]' bare/index.json >bare/index.new && mv bare/index.new bare/index.json
        run "$SMITH" sbom bare
        assert_status 4
        assert_one_error_line
        [[ "$output" == *"has no SPDX SBOM"* ]]
        # a document that does not match its descriptor is refused
        mkdir bad
        tar -C bad -xzf image.tar.gz
        local spdx
        spdx=$($OCI referrers bad | jq -r '.manifests[] | select(.artifactType == "application/spdx+json") | .digest')
        spdx=$(jq -r '.layers[0].digest' "bad/blobs/sha256/${spdx#sha256:}")
        chmod u+w "bad/blobs/sha256/${spdx#sha256:}"
        sed -i 's/SPDX-2.3/SPDX-2.4/' "bad/blobs/sha256/${spdx#sha256:}"
        run "$SMITH" sbom bad
        assert_status 4
        assert_one_error_line
        [[ "$output" == *"does not match its digest"* ]]
}

@test "an image from a Debian OCI source lists its packages with purls, licenses and files" {
        local image
        image=$(fixture debian-image)
        printf '%s\n' "package: $image" "paths: [/usr/bin/cat]" >smith.yaml
        rm -rf rootfs
        build
        sbom spdx
        sbom cyclonedx
        run $CHECK spdx spdx.json
        assert_status 0
        run $CHECK cyclonedx cyclonedx.json
        assert_status 0
        local root ver arch purl
        root=$(fixture debian-root)
        ver=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Version}' coreutils)
        arch=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Architecture}' coreutils)
        purl="pkg:deb/debian/coreutils@$ver?arch=$arch&distro=debian-12"
        [ "$(jq -r '.packages[] | select(.name == "coreutils") | .externalRefs[0].referenceLocator' spdx.json)" = "$purl" ]
        [ "$(jq -r '.packages[] | select(.name == "coreutils") | .versionInfo' spdx.json)" = "$ver" ]
        [ "$(jq -r '.packages[] | select(.name == "coreutils") | .licenseDeclared' spdx.json)" != NOASSERTION ]
        [ "$(jq -r '.packages[] | select(.name == "libc6") | .sourceInfo' spdx.json)" = \
                "built package from: glibc $(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Version}' libc6)" ]
        # the image contains coreutils, which contains /usr/bin/cat
        local pkg file
        pkg=$(jq -r '.packages[] | select(.name == "coreutils") | .SPDXID' spdx.json)
        file=$(jq -r '.files[] | select(.fileName == "/usr/bin/cat") | .SPDXID' spdx.json)
        jq -e --arg p "$pkg" --arg f "$file" '.relationships | any(.spdxElementId == "SPDXRef-Image" and
                .relationshipType == "CONTAINS" and .relatedSpdxElement == $p) and any(.spdxElementId == $p and
                .relationshipType == "CONTAINS" and .relatedSpdxElement == $f)' spdx.json
        # CycloneDX: the same purl, cat nested in it, and the image depends on it
        jq -e --arg p "$purl" '.components | any(.purl == $p and any(.components[]; .name == "/usr/bin/cat"))' \
                cyclonedx.json
        jq -e --arg p "$purl" '.dependencies | any(.ref == "image" and (.dependsOn | index($p)))' cyclonedx.json
        # the packages are exactly those the image's dpkg database lists
        unpack_layer image.tar.gz layer
        [ "$(jq -r '[.packages[] | select(.SPDXID | startswith("SPDXRef-Package-")) | .name] | sort | join(" ")' spdx.json)" = \
                "$(dpkg-query --admindir=layer/var/lib/dpkg -W -f '${Package}\n' | LC_ALL=C sort -u | paste -sd' ')" ]
}

@test "a parent image is a package: pkg:oci/<name>@<its manifest digest>" {
        build
        mv image.tar.gz Base.tar.gz
        printf '%s\n' "package: /" "parent: Base.tar.gz" "paths: [/usr/bin/true]" >smith.yaml
        build
        sbom spdx
        sbom cyclonedx
        run $CHECK spdx spdx.json
        assert_status 0
        run $CHECK cyclonedx cyclonedx.json
        assert_status 0
        local base
        base=$($OCI index Base.tar.gz | jq -r '.manifests[0].digest')
        [ "$(jq -r '.packages[] | select(.SPDXID == "SPDXRef-Base") | .externalRefs[0].referenceLocator' spdx.json)" = \
                "pkg:oci/base@sha256%3A${base#sha256:}" ]
        jq -e '.relationships | any(.spdxElementId == "SPDXRef-Image" and .relatedSpdxElement == "SPDXRef-Base")' spdx.json
        jq -e --arg p "pkg:oci/base@sha256%3A${base#sha256:}" \
                '(.components | any(.type == "container" and .purl == $p)) and
                 (.dependencies | any(.ref == "image" and (.dependsOn | index($p))))' cyclonedx.json
        # the layer's files only: true, not the parent's cat
        jq -e '[.files[].fileName] | index("/usr/bin/true") and (index("/usr/bin/cat") | not)' spdx.json
}

@test "an SBOM larger than 4 MiB is kept when the tarball is read, and printed back" {
        # /usr/include: some 8000 files (build-essential), an SPDX document of over 4 MiB
        printf '%s\n' "package: /" "paths: [/usr/include/**]" >smith.yaml
        rm -rf rootfs
        build
        sbom spdx
        [ "$(stat -c %s spdx.json)" -gt $((4 << 20)) ]
        cmp spdx.json <($OCI blob image.tar.gz application/spdx+json; echo)
        run $CHECK spdx spdx.json
        assert_status 0
}
