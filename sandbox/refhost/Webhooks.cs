using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Host.Config;
using Microsoft.Extensions.Logging;

namespace StoreSubmitter.RefHost;

/// <summary>
/// <c>/runtime/webhooks/durabletask/...</c>: the Functions host hands these requests to the extension's
/// HTTP converter, and tells the extension its public URL through <see cref="IWebHookProvider"/>. The
/// Node host owns the public port and forwards these paths here; the extension builds every management
/// URL from <paramref name="publicOrigin"/>, as it would from the site's host name.
/// </summary>
internal sealed class WebhookServer(string publicOrigin) : IWebHookProvider, IDisposable
{
    private readonly HttpListener listener = new();
    private IAsyncConverter<HttpRequestMessage, HttpResponseMessage>? extension;
    private readonly string origin = publicOrigin.TrimEnd('/');

    public string ListenUrl { get; private set; } = "";

    public Uri GetUrl(IExtensionConfigProvider extensionConfig) => new($"{origin}/runtime/webhooks/durabletask");

    public void Start(IAsyncConverter<HttpRequestMessage, HttpResponseMessage> converter)
    {
        extension = converter;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        ListenUrl = $"http://127.0.0.1:{port}/";
        listener.Prefixes.Add(ListenUrl);
        listener.Start();
        _ = Task.Run(Serve);
    }

    private async Task Serve()
    {
        while (listener.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await listener.GetContextAsync();
            }
            catch (Exception) when (!listener.IsListening)
            {
                return;
            }
            _ = Task.Run(() => Handle(ctx));
        }
    }

    private async Task Handle(HttpListenerContext ctx)
    {
        try
        {
            var req = ctx.Request;
            using var message = new HttpRequestMessage(new HttpMethod(req.HttpMethod), $"{origin}{req.RawUrl}");
            using var body = new MemoryStream();
            await req.InputStream.CopyToAsync(body);
            message.Content = new ByteArrayContent(body.ToArray());
            foreach (var key in req.Headers.AllKeys)
            {
                if (key is null || key.Equals("Host", StringComparison.OrdinalIgnoreCase)) continue;
                var values = req.Headers.GetValues(key) ?? [];
                if (!message.Headers.TryAddWithoutValidation(key, values))
                    message.Content.Headers.TryAddWithoutValidation(key, values);
            }
            using var response = await extension!.ConvertAsync(message, CancellationToken.None);
            ctx.Response.StatusCode = (int)response.StatusCode;
            foreach (var (key, values) in response.Headers.Concat(response.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>()))
            {
                if (key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)) continue;
                ctx.Response.Headers[key] = string.Join(", ", values);
            }
            var bytes = response.Content is null ? [] : await response.Content.ReadAsByteArrayAsync();
            ctx.Response.ContentLength64 = bytes.Length;
            await ctx.Response.OutputStream.WriteAsync(bytes);
        }
        catch (Exception e)
        {
            try
            {
                ctx.Response.StatusCode = 500;
            }
            catch (InvalidOperationException)
            {
                // headers already sent
            }
            Console.Error.WriteLine($"webhook request failed: {e}");
        }
        finally
        {
            ctx.Response.Close();
        }
    }

    public void Dispose()
    {
        if (listener.IsListening) listener.Stop();
        listener.Close();
    }
}

/// <summary>One JSON object per line on stdout; the Node host turns each into one of its own log lines.</summary>
internal sealed class JsonLines(Stream stream)
{
    private readonly StreamWriter writer = new(stream) { AutoFlush = true };
    private readonly object gate = new();

    public void Write(JsonObject line)
    {
        line["time"] ??= DateTime.UtcNow.ToString("o");
        var text = line.ToJsonString();
        lock (gate) writer.WriteLine(text);
    }
}

internal sealed class JsonLineLoggerProvider(JsonLines output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new JsonLineLogger(categoryName, output);

    public void Dispose() { }

    private sealed class JsonLineLogger(string category, JsonLines output) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            if (exception is not null) message = $"{message} {exception.GetType().Name}: {exception.Message}";
            output.Write(new JsonObject
            {
                ["level"] = logLevel switch
                {
                    LogLevel.Trace => "trace",
                    LogLevel.Debug => "debug",
                    LogLevel.Information => "information",
                    LogLevel.Warning => "warning",
                    LogLevel.Error => "error",
                    _ => "critical",
                },
                ["category"] = category,
                ["message"] = message,
            });
        }
    }
}
