using Tesslate.Build.Images;
using Xunit;

namespace Tesslate.Build.Tests.Images;

public sealed class DockerfileParserTests
{
    [Fact]
    public void Multi_stage_builds_name_only_external_bases_and_context_sources()
    {
        var inputs = DockerfileParser.Parse("""
            # syntax=docker/dockerfile:1.7
            ARG NODE=20
            FROM node:${NODE}-alpine AS build
            WORKDIR /src
            COPY package.json package-lock.json ./
            RUN npm ci
            COPY src/ ./src/
            FROM nginx:alpine
            COPY --from=build /src/dist /usr/share/nginx/html
            COPY --chown=101:101 nginx.conf /etc/nginx/conf.d/default.conf
            """);
        Assert.Equal(["node:20-alpine", "nginx:alpine"], inputs.ExternalBaseImages);
        Assert.Equal(["nginx.conf", "package-lock.json", "package.json", "src"], inputs.ContextSources);
        Assert.False(inputs.ReadsWholeContext);
        Assert.True(inputs.Stages[1].FromEarlierStage is false);
    }

    [Fact]
    public void A_stage_used_as_a_base_is_not_an_external_image()
    {
        var inputs = DockerfileParser.Parse("FROM busybox AS base\nFROM base\nCOPY a /a\n");
        Assert.Equal(["busybox"], inputs.ExternalBaseImages);
        Assert.True(inputs.Stages[1].FromEarlierStage);
    }

    [Fact]
    public void Build_args_override_arg_defaults_in_from_and_copy()
    {
        var inputs = DockerfileParser.Parse("ARG BASE=alpine:3.19\nFROM $BASE\nARG DIR=src\nCOPY ${DIR}/ /app/\n",
            new Dictionary<string, string> { ["BASE"] = "alpine:3.20", ["DIR"] = "lib" });
        Assert.Equal(["alpine:3.20"], inputs.ExternalBaseImages);
        Assert.Equal(["lib"], inputs.ContextSources);
    }

    [Fact]
    public void Continuation_lines_json_form_and_add_urls_are_understood()
    {
        var inputs = DockerfileParser.Parse("FROM scratch\nCOPY [\"a b.txt\", \\\n     \"c.txt\", \"/dst/\"]\nADD https://example.com/x.tar.gz /x\nCOPY <<EOF /etc/conf\nhello\nEOF\n");
        Assert.Equal(["a b.txt", "c.txt"], inputs.ContextSources);
        Assert.Equal(["https://example.com/x.tar.gz"], inputs.RemoteSources);
        Assert.Empty(inputs.ExternalBaseImages);
    }

    [Fact]
    public void A_bind_mount_of_the_context_or_an_unresolved_variable_means_the_whole_context()
    {
        var bind = DockerfileParser.Parse("FROM golang:1.22\nRUN --mount=type=bind,target=/src go build ./...\n");
        Assert.True(bind.ReadsWholeContext);
        Assert.Contains("RUN --mount=type=bind", bind.WholeContextReason);

        var fromStage = DockerfileParser.Parse("FROM golang:1.22 AS b\nFROM b\nRUN --mount=type=bind,from=b,target=/src true\nRUN --mount=type=cache,target=/root/.cache true\n");
        Assert.False(fromStage.ReadsWholeContext);

        var unresolved = DockerfileParser.Parse("FROM scratch\nCOPY $UNKNOWN /x\n");
        Assert.True(unresolved.ReadsWholeContext);
    }

    [Fact]
    public void Whole_context_copy_is_the_dot_source()
    {
        var inputs = DockerfileParser.Parse("FROM scratch\nCOPY . /app\n");
        Assert.Equal(["."], inputs.ContextSources);
    }
}
