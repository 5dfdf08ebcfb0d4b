// The reference host: the real Durable Task extension (Microsoft.Azure.WebJobs.Extensions.DurableTask)
// in a WebJobs host, on the Azure Storage provider. It owns orchestrations, activities, the task hub
// and the Durable HTTP APIs; the app's own code runs in the Node process that started it, which it
// calls over a loopback bridge for every orchestrator episode and every activity.
//
// Started by sandbox/refhost/index.ts:
//   dotnet RefHost.dll --bridge http://127.0.0.1:P --functions F.json --public-origin http://127.0.0.1:7071
//                      --host-json host.json [--task-hub NAME] [--queue-polling-ms N]
// App settings (AzureWebJobsStorage, FUNCTIONS_WORKER_RUNTIME=node, ...) come from the environment.
// Every log line and the `ready` line are JSON objects on stdout. The host stops when stdin closes,
// so it never outlives the Node process: `stop` on stdin stops it gracefully; stdin closing without
// it (the Node host died) ends it at once.
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Extensions.DurableTask;
using Microsoft.Azure.WebJobs.Host.Config;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace StoreSubmitter.RefHost;

public static class Program
{
    public static async Task<int> Main(string[] argv)
    {
        var output = new JsonLines(Console.OpenStandardOutput());
        // The extension blocks a pool thread on every out-of-process orchestrator episode
        // (TaskOrchestrationShim: `resultTask.Result`); on a 2-core machine the pool would start
        // one more thread every half second and episodes would queue behind that.
        ThreadPool.SetMinThreads(Math.Max(64, Environment.ProcessorCount * 8), 64);
        try
        {
            var args = Args.Parse(argv);
            var functions = FunctionList.Read(args.FunctionsFile);
            Bridge.Configure(args.BridgeUrl);

            var hostJson = HostJson.Read(args.HostJsonFile);
            var settings = HostJson.DurableSettings(hostJson, args.TaskHub, args.QueuePollingMs, args.VisibilityTimeoutMs);

            using var webhooks = new WebhookServer(args.PublicOrigin);
            var generated = FunctionGenerator.Generate(functions);

            var builder = new HostBuilder()
                .UseEnvironment("Development")
                .ConfigureAppConfiguration(c =>
                {
                    c.AddEnvironmentVariables();
                    c.AddInMemoryCollection(settings);
                })
                .ConfigureWebJobs(b =>
                {
                    b.AddDurableTask();
                })
                .ConfigureLogging(l =>
                {
                    l.ClearProviders();
                    l.AddProvider(new JsonLineLoggerProvider(output));
                    l.SetMinimumLevel(LogLevel.Warning);
                    // What the Functions host shows for Durable and function executions.
                    l.AddFilter("Host.Triggers.DurableTask", LogLevel.Information);
                    l.AddFilter("DurableTask.AzureStorage", LogLevel.Warning);
                    l.AddFilter("DurableTask.Core", LogLevel.Warning);
                    l.AddFilter("Function", LogLevel.Information);
                    l.AddFilter("Host.Startup", LogLevel.Warning);
                })
                .ConfigureServices(s =>
                {
                    s.AddSingleton<ITypeLocator>(new FixedTypeLocator(generated, typeof(ClientFunction)));
                    s.AddSingleton<IWebHookProvider>(webhooks);
                });

            using var host = builder.Build();
            await host.StartAsync();

            var extension = host.Services.GetServices<IExtensionConfigProvider>().OfType<DurableTaskExtension>().Single();
            webhooks.Start(extension);

            // The Durable client binding value, exactly as the extension hands it to an out-of-process function.
            var jobHost = (JobHost)host.Services.GetRequiredService<IJobHost>();
            await jobHost.CallAsync(ClientFunction.Name);
            var client = ClientFunction.LastValue ?? throw new InvalidOperationException("the Durable client binding gave no value");

            output.Write(new JsonObject
            {
                ["event"] = "ready",
                ["level"] = "information",
                ["category"] = "Host",
                ["message"] = $"Reference host started: {functions.Count} function(s) on the Durable Task extension",
                ["webhookUrl"] = webhooks.ListenUrl,
                ["client"] = client,
            });

            // `stop` on stdin (or SIGTERM/SIGINT) is a graceful stop. stdin closing without it means the
            // Node host died: this host then dies too, at once, as a crashed Functions host would, so
            // in-flight work is abandoned in its queues rather than failed or finished.
            var stop = new TaskCompletionSource();
            _ = Task.Run(async () =>
            {
                using var stdin = new StreamReader(Console.OpenStandardInput());
                while (await stdin.ReadLineAsync() is { } line)
                {
                    if (line.Trim() == "stop")
                    {
                        stop.TrySetResult();
                        return;
                    }
                }
                Environment.Exit(137);
            });
            using var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stop.TrySetResult());
            await stop.Task;
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await host.StopAsync(grace.Token);
            return 0;
        }
        catch (Exception e)
        {
            output.Write(new JsonObject
            {
                ["event"] = "startFailed",
                ["level"] = "critical",
                ["category"] = "Host",
                ["message"] = $"Reference host failed: {e}",
            });
            return 1;
        }
    }
}

internal sealed record Args(string BridgeUrl, string FunctionsFile, string PublicOrigin, string HostJsonFile, string? TaskHub, int? QueuePollingMs, int? VisibilityTimeoutMs)
{
    public static Args Parse(string[] argv)
    {
        string? bridge = null, functions = null, origin = null, hostJson = null, taskHub = null;
        int? polling = null, visibility = null;
        for (var i = 0; i < argv.Length; i++)
        {
            string Value() => i + 1 < argv.Length ? argv[++i] : throw new ArgumentException($"{argv[i]} needs a value");
            switch (argv[i])
            {
                case "--bridge": bridge = Value(); break;
                case "--functions": functions = Value(); break;
                case "--public-origin": origin = Value(); break;
                case "--host-json": hostJson = Value(); break;
                case "--task-hub": taskHub = Value(); break;
                case "--queue-polling-ms": polling = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                case "--visibility-timeout-ms": visibility = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown argument '{argv[i]}'");
            }
        }
        return new Args(
            bridge ?? throw new ArgumentException("--bridge is required"),
            functions ?? throw new ArgumentException("--functions is required"),
            origin ?? throw new ArgumentException("--public-origin is required"),
            hostJson ?? throw new ArgumentException("--host-json is required"),
            taskHub,
            polling,
            visibility);
    }
}

internal static class HostJson
{
    public static JsonObject Read(string path) =>
        File.Exists(path) ? (JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? new JsonObject()) : new JsonObject();

    /// <summary>
    /// host.json's <c>extensions.durableTask</c> as WebJobs configuration keys, the way the Functions host
    /// feeds it to the extension, plus the sandbox's own task hub and queue polling.
    /// </summary>
    public static Dictionary<string, string?> DurableSettings(JsonObject hostJson, string? taskHub, int? queuePollingMs, int? visibilityTimeoutMs)
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        const string prefix = "AzureWebJobs:Extensions:DurableTask";
        var durable = hostJson["extensions"]?["durableTask"];
        if (durable is not null) Flatten(durable, prefix, result);
        if (taskHub is not null) result[$"{prefix}:HubName"] = taskHub;
        // One host serves a sandbox's task hub: one control queue (Azure's default of 4 spreads the
        // hub over scaled-out instances) keeps the polling load on Azurite low. Order and delivery
        // per instance do not depend on it.
        if (!result.ContainsKey($"{prefix}:StorageProvider:PartitionCount")) result[$"{prefix}:StorageProvider:PartitionCount"] = "1";
        if (visibilityTimeoutMs is not null)
        {
            // The work-item queue only: the extension refuses a control-queue visibility under a
            // minute (AzureStorageOptions.Validate), and a killed host's activities are what waits on it.
            result[$"{prefix}:StorageProvider:WorkItemQueueVisibilityTimeout"] = TimeSpan.FromMilliseconds(visibilityTimeoutMs.Value).ToString("c");
        }
        if (queuePollingMs is not null)
            result[$"{prefix}:StorageProvider:MaxQueuePollingInterval"] = TimeSpan.FromMilliseconds(queuePollingMs.Value).ToString("c");
        return result;
    }

    private static void Flatten(JsonNode node, string path, Dictionary<string, string?> into)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                    if (value is not null) Flatten(value, $"{path}:{key}", into);
                break;
            case JsonArray arr:
                for (var i = 0; i < arr.Count; i++)
                    if (arr[i] is not null) Flatten(arr[i]!, $"{path}:{i}", into);
                break;
            default:
                into[path] = node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString();
                break;
        }
    }
}

internal sealed class FixedTypeLocator(params Type[] types) : ITypeLocator
{
    public IReadOnlyList<Type> GetTypes() => types;
}

/// <summary>Not a function of the app: called once at start so the extension hands over its client binding value.</summary>
public static class ClientFunction
{
    public const string Name = "RefHostDurableClient";
    public static string? LastValue;

    [NoAutomaticTrigger]
    [FunctionName(Name)]
    public static void Run([DurableClient] string client) => LastValue = client;
}
