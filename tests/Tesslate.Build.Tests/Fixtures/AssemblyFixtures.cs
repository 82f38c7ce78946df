using Tesslate.Build.Tests.Fixtures;
using Xunit;

// One Docker engine and one registry for the whole test run, shared by every test that asks for them.
[assembly: AssemblyFixture(typeof(DockerEngineFixture))]
[assembly: AssemblyFixture(typeof(RegistryFixture))]
