#!/usr/bin/env bash
# The Bicep step of CI: installs the Bicep CLI from NuGet (Azure.Bicep.CommandLine.linux-x64,
# fetched by the dotnet SDK's own restore, cached in .tools/bicep), then builds and lints every
# .bicep file. Any diagnostic, warning or error, fails the step: a lint warning is a finding.
# Leaves .tools/bicep/bin/bicep for the template tests (test/infra/), which .ci/run points to.
set -uo pipefail
cd "$(dirname "$0")/.."

BICEP_VERSION=0.49.2
dir=.tools/bicep
bin="$dir/packages/azure.bicep.commandline.linux-x64/$BICEP_VERSION/tools/bicep"

if [ ! -x "$bin" ]; then
  mkdir -p "$dir"
  # A project that only downloads the package (PackageDownload): nothing is built.
  tfm="net$(dotnet --version | cut -d. -f1).0"
  cat > "$dir/bicep-cli.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>$tfm</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Azure.Bicep.CommandLine.linux-x64" Version="[$BICEP_VERSION]" /></ItemGroup>
</Project>
PROJECT
  if ! DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
    dotnet restore "$dir/bicep-cli.csproj" --packages "$dir/packages" >"$dir/restore.log" 2>&1; then
    cat "$dir/restore.log"
    echo "bicep: could not install Azure.Bicep.CommandLine.linux-x64 $BICEP_VERSION"
    exit 1
  fi
  chmod +x "$bin"
fi
mkdir -p "$dir/bin"
ln -sf "$PWD/$bin" "$dir/bin/bicep"
"$bin" --version

status=0
while IFS= read -r file; do
  built=$("$bin" build "$file" --stdout 2>&1 >/dev/null) || status=1
  linted=$("$bin" lint "$file" 2>&1) || status=1
  if [ -n "$built$linted" ]; then
    status=1
    printf 'bicep: %s\n%s\n%s\n' "$file" "$built" "$linted"
  else
    echo "bicep: $file builds and lints clean"
  fi
done < <(find . -name '*.bicep' -not -path './node_modules/*' -not -path './.tools/*' -not -path './.git/*' | sort)
exit "$status"
