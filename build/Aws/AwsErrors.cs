using System.Net;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Aws;

/// <summary>What an AWS service said when it refused a call.</summary>
public sealed record AwsError(AwsService Service, string Operation, HttpStatusCode StatusCode, string Code, string Message, string? RequestId = null)
{
    public bool IsTransient =>
        (int)StatusCode >= 500 || StatusCode == HttpStatusCode.TooManyRequests || TransientCodes.Contains(Code);

    private static readonly HashSet<string> TransientCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
        "RequestThrottled", "RequestThrottledException", "SlowDown", "ServiceUnavailable", "ServiceUnavailableException",
        "InternalFailure", "InternalError", "InternalServerError", "InternalServiceError", "InternalServiceErrorException",
        "ServerException", "RequestTimeout", "RequestTimeoutException", "IDPCommunicationError",
    };
}

/// <summary>An AWS call that the service refused; the subtype says which kind of refusal, the fix says what to do.</summary>
public class AwsServiceException(AwsError error, string problem, string fix, Exception? inner = null)
    : BuildFailure(problem, fix, inner)
{
    public AwsError Error { get; } = error;

    public string Code => Error.Code;

    /// <summary>Turns an error body into the most specific exception, with a problem line naming service, call and code.</summary>
    /// <param name="choices">How the caller's user chooses a region and a role, for the fixes.</param>
    public static AwsServiceException From(AwsError error, string? subject = null, Exception? inner = null, AwsChoices? choices = null)
    {
        choices ??= AwsChoices.None;
        var what = subject ?? $"{error.Service} {error.Operation}";
        var problem = $"{what} failed: {error.Code}: {error.Message} (HTTP {(int)error.StatusCode})";
        return error.Code switch
        {
            "ImageNotFoundException" => new ImageNotFoundException(error, problem,
                "Build and push the image first, or check the tag/digest and the repository."),
            "RepositoryNotFoundException" => new RepositoryNotFoundException(error, problem,
                "Create the ECR repository (Terraform manages them), or check the repository name, account and region."),
            "ResourceNotFoundException" => new ResourceNotFoundException(error, problem,
                $"Check the name, the account and the region ({AwsChoices.Or(choices.Region, "AWS_REGION")})."),
            "AccessDenied" or "AccessDeniedException" or "UnauthorizedOperation" or "UnauthorizedException" or "AuthorizationError"
                => new AccessDeniedException(error, problem,
                    $"The identity in use lacks this permission: use a role that has it ({AwsChoices.Or(choices.Role, "AWS_EKS_ROLE_ARN")}), or ask an admin to grant it."),
            "ExpiredToken" or "ExpiredTokenException" or "RequestExpired" or "TokenRefreshRequired"
                => new ExpiredTokenException(error, problem,
                    "The session credentials expired: run 'aws sso login' (SSO profiles) or obtain fresh credentials, then rerun."),
            "SignatureDoesNotMatch" or "InvalidSignatureException" or "IncompleteSignature" or "IncompleteSignatureException"
                => new InvalidSignatureException(error, problem,
                    "The secret access key does not match the access key id: check AWS_SECRET_ACCESS_KEY or the profile's keys, and the machine's clock."),
            "UnrecognizedClientException" or "InvalidClientTokenId" or "InvalidAccessKeyId" or "AuthFailure"
                => new UnrecognizedClientException(error, problem,
                    "AWS does not know this access key: check AWS_ACCESS_KEY_ID / the profile, or log in again."),
            _ when error.IsTransient => new AwsTransientException(error, problem,
                "AWS is throttling or failing this call; wait a little and rerun."),
            _ => new AwsServiceException(error, problem, "See the AWS message above."),
        };
    }
}

public sealed class ImageNotFoundException(AwsError error, string problem, string fix) : AwsServiceException(error, problem, fix);

public sealed class RepositoryNotFoundException(AwsError error, string problem, string fix) : AwsServiceException(error, problem, fix);

public sealed class ResourceNotFoundException(AwsError error, string problem, string fix) : AwsServiceException(error, problem, fix);

public sealed class AccessDeniedException(AwsError error, string problem, string fix) : AwsServiceException(error, problem, fix);

public sealed class ExpiredTokenException(AwsError error, string problem, string fix) : AwsServiceException(error, problem, fix);

public sealed class InvalidSignatureException(AwsError error, string problem, string fix) : AwsServiceException(error, problem, fix);

public sealed class UnrecognizedClientException(AwsError error, string problem, string fix) : AwsServiceException(error, problem, fix);

/// <summary>Throttling or a 5xx that outlasted the retries.</summary>
public sealed class AwsTransientException(AwsError error, string problem, string fix) : AwsServiceException(error, problem, fix);

/// <summary>An endpoint that accepted no answer in time: named, with the timeout, never a silent hang.</summary>
public sealed class AwsEndpointTimeoutException(AwsService service, string operation, Uri endpoint, TimeSpan timeout)
    : BuildFailure($"{endpoint.GetLeftPart(UriPartial.Authority)} did not answer within {timeout.TotalSeconds:0.#} s ({service} {operation}).",
        $"Check the network/VPN and any AWS_ENDPOINT_URL* variables; the endpoint in use is {endpoint}.")
{
    public AwsService Service { get; } = service;

    public Uri Endpoint { get; } = endpoint;
}

/// <summary>No connection at all: DNS, refused, TLS.</summary>
public sealed class AwsEndpointUnreachableException(AwsService service, string operation, Uri endpoint, Exception inner)
    : BuildFailure($"{endpoint.GetLeftPart(UriPartial.Authority)} could not be reached ({service} {operation}): {inner.Message}",
        $"Check the network/VPN and any AWS_ENDPOINT_URL* variables; the endpoint in use is {endpoint}.", inner)
{
    public AwsService Service { get; } = service;

    public Uri Endpoint { get; } = endpoint;
}
