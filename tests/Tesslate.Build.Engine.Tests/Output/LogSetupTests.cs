using Xunit;

namespace Tesslate.Build.Engine.Tests;

public sealed class LogSetupTests
{
    [Fact]
    public void Held_console_lines_wait_for_the_live_display_to_end_and_the_log_file_gets_them_at_once()
    {
        var output = new StringWriter();
        var file = Path.GetTempFileName();
        try
        {
            using (var logging = LogSetup.Create(Verbosity.Normal, github: null, file, output))
            {
                var hold = logging.HoldConsole();
                logging.Logger.Information("while the table is up");
                Assert.DoesNotContain("while the table is up", output.ToString());
                Assert.Contains("while the table is up", File.ReadAllText(file));
                hold.Dispose();
                hold.Dispose(); // a second dispose must not release someone else's hold
                Assert.Contains("while the table is up", output.ToString());
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Secrets_are_redacted_in_the_console_and_the_file_and_strings_render_without_quotes()
    {
        var output = new StringWriter();
        var file = Path.GetTempFileName();
        try
        {
            Secrets.BeginScope().Register("p4ssw0rd-value");
            using (var logging = LogSetup.Create(Verbosity.Normal, github: null, file, output))
                logging.Logger.Information("login with {Password} to {Registry}", "p4ssw0rd-value", "ecr");
            Assert.Contains("login with [REDACTED] to ecr", output.ToString());
            Assert.Contains("login with [REDACTED] to ecr", File.ReadAllText(file));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
