using Serilog;
using Tesslate.Build.Engine;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Images;

/// <summary>
/// Moves mutable tags (the environment's, and <c>latest</c> where the catalog says) to the digests a build report
/// recorded: Deploy calls it after the rollouts succeeded, so the environment tag means "what runs there".
/// </summary>
public sealed class ImagePromoter(RegistryClient registry, ILogger logger)
{
    public async Task<BuildReport> PromoteAsync(BuildReport report, ImageCatalog catalog, string environment, CancellationToken cancellationToken)
    {
        var images = new List<ImageReport>();
        foreach (var image in report.Images)
        {
            if (image.Outcome is not (ImageOutcome.Built or ImageOutcome.Reused) || image.Digest is null)
            {
                images.Add(image);
                continue;
            }
            var definition = catalog.Images.FirstOrDefault(i => i.Name == image.Name)
                ?? throw new BuildFailure($"The build report names image '{image.Name}', which the catalog does not have.", "Use a report written by this version of the pipeline.");
            var manifest = await registry.GetManifestAsync(image.Repository, image.Digest, cancellationToken)
                ?? throw new BuildFailure($"Registry {registry.Registry}: {image.Repository}@{image.Digest} is gone, so it cannot be promoted.",
                    "Rebuild the image (BuildImages) and deploy again.");
            var tags = ImageTags.Promotion(definition, environment);
            foreach (var tag in tags)
            {
                await registry.PutManifestAsync(image.Repository, tag, manifest, cancellationToken);
                logger.Information("[{Image}] {Repository}:{Tag} → {Digest}", image.Name, image.Repository, tag, image.Digest);
            }
            images.Add(image with { Tags = [.. image.Tags.Concat(tags).Distinct(StringComparer.Ordinal)] });
        }
        return report with { Images = [.. images], Environment = environment, Promoted = true };
    }
}
