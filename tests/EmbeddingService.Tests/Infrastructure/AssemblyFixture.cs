using EmbeddingService.Tests.Infrastructure;

[assembly: AssemblyFixture(typeof(EmbeddingServiceFactory))]
