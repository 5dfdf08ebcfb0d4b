using System.Net.Http.Headers;
using System.Reflection;
using System.Reflection.Emit;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Extensions.DurableTask;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace StoreSubmitter.RefHost;

internal enum FunctionKind
{
    Orchestrator,
    Activity,
}

internal sealed record FunctionEntry(string Name, FunctionKind Kind);

internal static class FunctionList
{
    /// <summary>The app's orchestrators and activities, as the Node side read them from the app's registrations.</summary>
    public static List<FunctionEntry> Read(string path)
    {
        var list = new List<FunctionEntry>();
        var doc = JsonNode.Parse(File.ReadAllText(path)) as JsonArray ?? throw new InvalidDataException($"{path}: not a JSON array");
        foreach (var item in doc)
        {
            var name = item?["name"]?.GetValue<string>() ?? throw new InvalidDataException($"{path}: an entry has no name");
            var kind = item["kind"]?.GetValue<string>() switch
            {
                "orchestrator" => FunctionKind.Orchestrator,
                "activity" => FunctionKind.Activity,
                var other => throw new InvalidDataException($"{path}: function '{name}' has unknown kind '{other}'"),
            };
            list.Add(new FunctionEntry(name, kind));
        }
        return list;
    }
}

/// <summary>
/// Emits one static method per function, with the same attributes a .NET app would write
/// (<c>[FunctionName]</c>, <c>[OrchestrationTrigger] string</c> / <c>[ActivityTrigger] string</c>), so the
/// WebJobs indexer and the Durable extension see ordinary functions. A <c>string</c> trigger parameter is
/// what makes the extension treat the orchestrator as out-of-process (the JSON protocol the Node worker
/// speaks); each body only forwards to <see cref="Bridge"/>. The Functions host builds its functions for
/// other languages the same way, from metadata at start-up.
/// </summary>
internal static class FunctionGenerator
{
    public static Type Generate(IReadOnlyList<FunctionEntry> functions)
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("RefHost.AppFunctions"), AssemblyBuilderAccess.Run);
        var module = assembly.DefineDynamicModule("RefHost.AppFunctions");
        var type = module.DefineType("AppFunctions", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed | TypeAttributes.Class);
        var functionName = typeof(FunctionNameAttribute).GetConstructor([typeof(string)])!;
        var orchestrationTrigger = typeof(OrchestrationTriggerAttribute).GetConstructor(Type.EmptyTypes)!;
        var activityTrigger = typeof(ActivityTriggerAttribute).GetConstructor(Type.EmptyTypes)!;
        var orchestratorTarget = typeof(Bridge).GetMethod(nameof(Bridge.Orchestrator))!;
        var activityTarget = typeof(Bridge).GetMethod(nameof(Bridge.Activity))!;

        var index = 0;
        foreach (var fn in functions)
        {
            var method = type.DefineMethod(
                $"F{index++}_{new string(fn.Name.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray())}",
                MethodAttributes.Public | MethodAttributes.Static,
                typeof(Task<object>),
                [typeof(string)]);
            method.SetCustomAttribute(new CustomAttributeBuilder(functionName, [fn.Name]));
            var parameter = method.DefineParameter(1, ParameterAttributes.None, fn.Kind == FunctionKind.Orchestrator ? "context" : "input");
            parameter.SetCustomAttribute(new CustomAttributeBuilder(fn.Kind == FunctionKind.Orchestrator ? orchestrationTrigger : activityTrigger, []));
            var il = method.GetILGenerator();
            il.Emit(OpCodes.Ldstr, fn.Name);
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Call, fn.Kind == FunctionKind.Orchestrator ? orchestratorTarget : activityTarget);
            il.Emit(OpCodes.Ret);
        }
        return type.CreateType();
    }
}

/// <summary>
/// The failure of a worker invocation, with the message shape of the Functions host's RpcException
/// (<c>Result: Failure\nException: ...\nStack: ...</c>), which the extension parses to find the
/// friendly message of an activity error and the <c>$OutOfProcData$</c> state of a failed orchestrator.
/// </summary>
public sealed class WorkerInvocationException(string message, string stack)
    : Exception($"Result: Failure\nException: {message}\nStack: {stack}")
{
    public string RemoteStackTrace { get; } = stack;
}

/// <summary>Calls the Node worker over loopback HTTP: one POST per invocation.</summary>
public static class Bridge
{
    private static HttpClient? client;
    private static readonly JsonSerializerSettings ReturnValueSettings = new() { DateParseHandling = DateParseHandling.None };

    public static void Configure(string baseUrl)
    {
        client = new HttpClient { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>An orchestrator episode: the extension's JSON context in, the worker's state JSON out.</summary>
    public static async Task<object> Orchestrator(string name, string context)
    {
        var rv = await Invoke(name, "orchestrator", context);
        // The extension reads the orchestrator's answer from a JSON string or a JObject.
        return rv?["json"]?.GetValue<string>() ?? rv?["string"]?.GetValue<string>()
            ?? throw new InvalidOperationException($"orchestrator '{name}' returned no state");
    }

    /// <summary>An activity: its input as the extension binds it to a string, its return value as the Functions host converts it.</summary>
    public static async Task<object> Activity(string name, string? input)
    {
        var rv = await Invoke(name, "activity", input);
        if (rv is null) return null!;
        if (rv["json"] is JsonNode json) return JsonConvert.DeserializeObject<JToken>(json.GetValue<string>(), ReturnValueSettings)!;
        if (rv["string"] is JsonNode text) return text.GetValue<string>();
        if (rv["int"] is JsonNode i) return i.GetValue<long>();
        if (rv["double"] is JsonNode d) return d.GetValue<double>();
        if (rv["bytes"] is JsonNode b) return Convert.FromBase64String(b.GetValue<string>());
        return null!;
    }

    private static async Task<JsonObject?> Invoke(string name, string kind, string? input)
    {
        var http = client ?? throw new InvalidOperationException("the bridge is not configured");
        var body = new JsonObject { ["function"] = name, ["kind"] = kind, ["input"] = input };
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync("invoke", content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"the Node worker answered {(int)response.StatusCode} for '{name}': {text}");
        var answer = JsonNode.Parse(text) as JsonObject ?? throw new InvalidOperationException($"the Node worker gave no answer for '{name}'");
        if (answer["ok"]?.GetValue<bool>() != true)
            throw new WorkerInvocationException(answer["message"]?.GetValue<string>() ?? "", answer["stack"]?.GetValue<string>() ?? "");
        return answer["returnValue"] as JsonObject;
    }
}
